# spellings: what the seeds' users type, from Alembic: show head, heads and
# current; history -r START:END (and --rev-range); branches; revision -m
# (create's other name, tested writing in the authoring case); and what
# these refuse.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "branches: the branch points of the binary"
run heads app migrate branches
run v1 app migrate branches
run heads app migrate branches --help
note "show head, heads, current"
run heads app migrate show heads
run heads app migrate show head
run v3 app migrate upgrade
run v1 app migrate show current
run v1 app migrate show head
run v1 app migrate show base
note "history -r START:END, Alembic's ranges"
run v3 app migrate history -r bbbb:cccc
run v3 app migrate history --rev-range aaaa00000001:
run v3 app migrate history -r :bbbb
run v3 app migrate history -r base:head --json
run v3 app migrate downgrade -2
run v3 app migrate history -r current:
run v3 app migrate history -r :current
run v3 app migrate history -r cccc:bbbb
run v3 app migrate history -r bbbb
run v3 app migrate history -r nosuchrev:
run v3 app migrate history -r :base
run heads app migrate history -r :head
run heads app migrate history -r xxxx:heads
note "revision is create's other name"
run v1 app migrate revision --help
run v1 app migrate --help
