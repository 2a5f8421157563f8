# A new table with its keys and index, a view added over it, one changed,
# one gone (not data: no --allow-destructive needed).
create "schedules"
show
verify
again
