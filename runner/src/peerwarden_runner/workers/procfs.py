"""What /proc says of a process (Linux): whether it runs, its parent, its descendants. The workers'
tests and bench/sessions.py use it to show that no worker outlives the runner and to sum the
workers' memory; ten lines rather than a dependency (psutil) for three fields."""


def _stat(pid):
    """The fields of /proc/PID/stat after the command name: [state, ppid, ...]; None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid):
    """True while the process exists and is not a zombie (ended, not yet reaped)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def parent_of(pid):
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def descendants(pid):
    """The process and every process under it now."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            with open("/proc/%d/task/%d/children" % (current, current)) as children:
                pending.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found
