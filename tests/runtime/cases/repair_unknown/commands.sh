# repair_unknown: repair's --mark-applied and --mark-unapplied name a
# revision; one that names none is refused (exit 2) before anything is
# opened, like a target (cases targets, bad_targets): no database file, no
# tables, no lock file. (repair used to create the database, strata's tables
# and the lock file first: docs/reliability.md, defects.)
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate repair --mark-applied nosuchrev
run v1 app migrate repair --mark-applied ''
run v1 app migrate repair --mark-unapplied aaa
note "nothing was created"
sh_ 'ls -A'
