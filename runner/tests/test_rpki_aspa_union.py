"""AspaTable (one source's ASPAs, changed in one step) and AspaUnion (the aspa stage's set from a file
and RTR): what each tells on, and that a customer stays until every source dropped it."""

from peerwarden_runner.rpki.aspa_table import AspaTable
from peerwarden_runner.rpki.aspa_union import AspaUnion


def test_a_table_tells_only_the_customers_that_changed():
    told = []
    table = AspaTable(on_change=told.append)
    assert table.replace_all({64496: frozenset({64500}), 64497: frozenset({0})}) == {64496, 64497}
    before = table.aspas
    assert table.apply({64496: frozenset({64500}), 64497: None, 64498: frozenset({64501})}) == {64497, 64498}
    assert table.apply({64499: None}) == frozenset()  # nothing changed: nothing told, the mapping kept
    assert before == {64496: frozenset({64500}), 64497: frozenset({0})}  # replaced, never edited in place
    assert table.aspas == {64496: frozenset({64500}), 64498: frozenset({64501})} and len(table) == 2
    assert table.clear() == {64496, 64498} and told == [{64496, 64497}, {64497, 64498}, {64496, 64498}]


def test_the_union_merges_providers_and_keeps_a_customer_until_every_source_dropped_it():
    told = []
    rtr = AspaTable()
    rtr.replace_all({64496: frozenset({64500})})  # a client synced before the stage took its table
    union = AspaUnion(on_change=told.append)
    file = union.source()
    union.source(rtr)
    assert union.aspas == {64496: frozenset({64500})} and told == [{64496}]  # what it held is taken in
    file.replace_all({64496: frozenset({64502}), 64499: frozenset({64500})})
    assert union.aspas == {64496: frozenset({64500, 64502}), 64499: frozenset({64500})}
    rtr.clear()  # the RTR data expired: the file's ASPAs stay
    assert union.aspas == {64496: frozenset({64502}), 64499: frozenset({64500})}
    rtr.apply({64499: frozenset({64500})})  # the same as the file says: the union does not change
    assert told == [{64496}, {64496, 64499}, {64496}] and union.aspas[64499] == {64500}
    file.clear()
    assert union.aspas == {64499: frozenset({64500})} and told[-1] == {64496}
