# escapes: text read from the database reaches the terminal shown, never
# obeyed (newlines, escape sequences, C1 controls and invalid UTF-8 as \n,
# \xHH), and --json stays valid JSON. It was printed raw.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate upgrade
note "a row written by someone else: a revision and a message full of control characters"
if [ "$pg" = 1 ]; then
  # PostgreSQL stores only valid UTF-8: controls, and U+009B (CSI), no stray bytes.
  q "INSERT INTO app_strata_version (revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state) VALUES ('evil' || chr(10) || chr(27) || '[31mred' || chr(155) || '2J' || chr(7), 'e', 'l', 'msg ' || chr(27) || ']0;title' || chr(7) || ' end', '2026-01-01' || chr(10) || 'forged', 0, 'host' || chr(13), 'b', 'applied')"
  q "UPDATE app_strata_version SET applied_by = 'ops' || chr(27) || '[2J' WHERE revision = 'bbbb00000002'"
else
  q "INSERT INTO app_strata_version (revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state) VALUES ('evil' || char(10) || char(27) || '[31mred' || char(155) || '2J' || char(7) || CAST(X'FF' AS TEXT), 'e', 'l', 'msg ' || char(27) || ']0;title' || char(7) || CAST(X'C0AF' AS TEXT) || ' end', '2026-01-01' || char(10) || 'forged', 0, 'host' || char(13), 'b', 'applied')"
  q "UPDATE app_strata_version SET applied_by = 'ops' || char(27) || '[2J' WHERE revision = 'bbbb00000002'"
fi
run v1 app migrate status
run v1 app migrate current
run v1 app migrate show current
run v1 app migrate history --verbose
run v1 app migrate downgrade -1
run v1 app migrate status --env test --database "$db"
run v1 app migrate status --json
json_ok v1 app migrate status --json
json_ok v1 app migrate current --json
json_ok v1 app migrate history --json
note "in the messages of a verdict too: who applied an edited migration"
run v2_edited app migrate status
note "nothing raw reached the transcript"
sh_ "LC_ALL=C grep -c \$'[\\x01-\\x09\\x0b-\\x1f\\x7f\\x80-\\xff]' transcript.txt"
