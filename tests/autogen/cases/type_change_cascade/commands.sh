# A column type changed on a parent table whose child has ON DELETE CASCADE:
# SQLite rebuilds the parent with foreign keys off (DROP TABLE would delete
# the children), PostgreSQL alters it in place. The child rows survive.
create "amount becomes bigint"
show
verify
rows "SELECT (SELECT count(*) FROM child), (SELECT sum(amount) FROM parent)"
again
