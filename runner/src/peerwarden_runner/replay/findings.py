"""What a reader did not understand: counted by kind, with the offsets of the first few of each
kind, and where the file ends early. Nothing is skipped without being counted here."""

from collections import Counter

SAMPLES = 5


class Findings:
    def __init__(self, samples=SAMPLES):
        self.counts: Counter[str] = Counter()
        self.offsets: dict[str, list[int]] = {}
        self.samples = samples
        self.truncated: str | None = None

    def note(self, what, offset):
        """One record (or line) at `offset` (octets into the decompressed file) not understood."""
        self.counts[what] += 1
        offsets = self.offsets.setdefault(what, [])
        if len(offsets) < self.samples:
            offsets.append(offset)

    def truncate(self, offset, why):
        """The file ends early, at `offset`: nothing after it can be read."""
        self.truncated = "truncated at offset %d: %s" % (offset, why)

    def __bool__(self):
        return bool(self.counts) or self.truncated is not None

    def lines(self):
        """One line per kind ("3 x what (at offsets 10, 20, 30)"), then the truncation."""
        lines = [
            "%d x %s (at offset%s %s)"
            % (count, what, "s" if count > 1 else "", ", ".join(str(o) for o in self.offsets[what]))
            + (" ..." if count > len(self.offsets[what]) else "")
            for what, count in sorted(self.counts.items())
        ]
        if self.truncated:
            lines.append(self.truncated)
        return lines
