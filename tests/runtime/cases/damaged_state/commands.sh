# damaged_state: a version row whose state strata never writes ('garbage')
# counted as applied; now it is a verdict (exit 4) naming the table, the
# revision and the fix: repair --mark-applied or --mark-unapplied.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate upgrade
if [ "$pg" = 1 ]; then
  q "ALTER TABLE app_strata_version DROP CONSTRAINT app_strata_version_state_check"
  q "UPDATE app_strata_version SET state = 'garbage' WHERE revision = 'bbbb00000002'"
else
  q "PRAGMA ignore_check_constraints = ON; UPDATE app_strata_version SET state = 'garbage' WHERE revision = 'bbbb00000002'"
fi
run v1 app migrate status
run v1 app migrate status --json
run v1 app migrate check
run v1 start
run v1 app migrate upgrade
run v1 app migrate downgrade -1
run v1 app migrate stamp head
run v1 app migrate show bbbb
run v1 app migrate repair
run v1 app migrate repair --mark-applied bbbb00000002
run v1 app migrate status
note "a revision this binary does not know, in a state strata does not write"
unknown_row="INSERT INTO app_strata_version (revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state) VALUES ('zzzz00000009', 'e', 'l', 'from elsewhere', '2026-01-01T00:00:00Z', 0, 'elsewhere:1', 'b', 'half')"
if [ "$pg" = 1 ]; then
  q "$unknown_row"
else
  q "PRAGMA ignore_check_constraints = ON; $unknown_row"
fi
run v1 app migrate status
run v1 app migrate repair --mark-unapplied zzzz00000009
run v1 app migrate status
