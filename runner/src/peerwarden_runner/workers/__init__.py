"""Sessions spread over worker processes (`workers:` in the configuration): config.py checks the key
and assigns sessions, supervisor.py starts and restarts the workers in the parent, child.py is one
worker, merge.py serves every worker's metrics on the one configured address; procfs.py reads /proc
for the tests and the bench."""
