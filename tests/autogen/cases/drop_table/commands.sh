# A table gone loses its rows: refused unless asked for; its view goes first.
# The down makes the table again, empty.
create "drop old jobs"
create "drop old jobs" --allow-destructive
show
verify
again
