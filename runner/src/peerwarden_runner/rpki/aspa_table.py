"""One source's ASPA set (customer AS -> the providers its ASPA lists), kept the way the VRP tables
are: changed in one step (an RTR End of Data, a re-read file), the mapping replaced whole so that
readers on the event loop never see half a change, and `on_change(customers)` told which customers
came, went or changed.

An RTR client keeps the ASPAs of its cache in one (8210bis-27 §5.12: an announcement replaces what
the cache said of that customer, a withdrawal removes the customer); aspa_union puts the sources
(a file, RTR) together for the aspa stage.
"""

from collections.abc import Callable, Iterable, Mapping

AspaMap = Mapping[int, frozenset[int]]
AspaChange = Callable[[frozenset[int]], object]  # the customer ASes whose ASPA came, went or changed


def changed_customers(before: AspaMap, after: AspaMap, customers: Iterable[int] | None = None) -> frozenset[int]:
    """The customers (of `customers`, or all) whose providers differ between `before` and `after`."""
    candidates = before.keys() | after.keys() if customers is None else customers
    return frozenset(customer for customer in candidates if before.get(customer) != after.get(customer))


class AspaTable:
    def __init__(self, on_change: AspaChange | None = None):
        self.aspas: dict[int, frozenset[int]] = {}
        self.on_change = on_change

    def __len__(self) -> int:
        return len(self.aspas)

    def __contains__(self, customer: object) -> bool:
        return customer in self.aspas

    def get(self, customer: int) -> frozenset[int] | None:
        return self.aspas.get(customer)

    def _use(self, after: dict[int, frozenset[int]], changed: frozenset[int]) -> frozenset[int]:
        if changed:
            self.aspas = after
            if self.on_change is not None:
                self.on_change(changed)
        return changed

    def apply(self, changes: Mapping[int, frozenset[int] | None]) -> frozenset[int]:
        """Each customer's new providers, or None: withdrawn. The customers that changed."""
        after = dict(self.aspas)
        for customer, providers in changes.items():
            if providers is None:
                after.pop(customer, None)
            else:
                after[customer] = providers
        return self._use(after, changed_customers(self.aspas, after, changes))

    def replace_all(self, aspas: AspaMap) -> frozenset[int]:
        after = dict(aspas)
        return self._use(after, changed_customers(self.aspas, after))

    def clear(self) -> frozenset[int]:
        return self.replace_all({})
