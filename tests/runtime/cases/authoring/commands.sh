# authoring: migrate create and merge (development build) write into the
# directory the bundle records, a build-tree copy of fixtures/heads;
# strata-bundle check accepts the result.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
src=$bin/authoring-src
# Whatever happens, leave the build tree's copy as it was.
trap 'rm -f "$src"/2*.sql; rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1755419095
run authoring app migrate create "add notes"
run authoring app migrate merge xxxx00000002 yyyy00000002 -m "join x and y"
run authoring app migrate create "add a column" --template add_column
sh_ 'cd "$src" && ls | wc -l && cat 2*add_a_column.sql'
run authoring app migrate create
sh_ "$bin/../../bundler/strata-bundle check \"$src\" | sed 's|$src|<src>|'"
# The new files' revisions are random: shown as <rev> below.
masked() { # masked ARGS...: testapp_authoring ARGS, 12-hex revisions masked, its exit code kept
  sh_ '( out=$('"$bin"'/testapp_authoring '"$*"' 2>&1); rc=$?; printf "%s\n" "$out" | sed -E "s/[0-9a-f]{12}/<rev>/g"; exit $rc )'
}
note "merge joins heads only: the same pair again is refused (it was merged twice)"
masked app migrate merge xxxx00000002 yyyy00000002 -m again
note "Alembic's spelling: revision -m"
run authoring app migrate revision -m "add tags"
note "--head on a revision that is not a head starts a branch: only with --splice"
masked app migrate create branch --head aaaa00000001
masked app migrate create branch --head aaaa00000001 --splice
sh_ 'cd "$src" && ls | wc -l'
