"""Several ASPA sources behind the aspa stage's one set (an rpki-client JSON file next to RTR v2
caches), as vrp_union does for VRPs: each source keeps its own AspaTable, the union holds, for each
customer, the providers any source lists (two sources attesting one customer are merged, as
rpki-client merges two ASPA objects of one customer), and only the customers whose union changed
are told on. A customer stays attested until every source has dropped it (an RTR cache expiring
leaves the file's ASPAs in place)."""

from peerwarden_runner.rpki.aspa_table import AspaChange, AspaTable, changed_customers


class AspaUnion:
    def __init__(self, on_change: AspaChange | None = None):
        self.on_change = on_change
        self.sources: list[AspaTable] = []
        self.aspas: dict[int, frozenset[int]] = {}

    def source(self, table: AspaTable | None = None) -> AspaTable:
        """`table` (an RTR client's) or a new one, as a source of the union: what it holds now is
        taken in, and its changes from now on."""
        table = table if table is not None else AspaTable()
        self.sources.append(table)
        table.on_change = self._changed
        self._changed(frozenset(table.aspas))
        return table

    def _merged(self, customer: int) -> frozenset[int] | None:
        listed = [providers for source in self.sources if (providers := source.get(customer)) is not None]
        return frozenset().union(*listed) if listed else None

    def _changed(self, customers: frozenset[int]) -> None:
        after = dict(self.aspas)
        for customer in customers:
            providers = self._merged(customer)
            if providers is None:
                after.pop(customer, None)
            else:
                after[customer] = providers
        changed = changed_customers(self.aspas, after, customers)
        if changed:
            self.aspas = after
            if self.on_change is not None:
                self.on_change(changed)
