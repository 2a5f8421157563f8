# Serial and identity columns compare by what they are, not by the names of
# their sequences: no false difference.
create "nothing to do"
note "serial to identity is a change, and the sequence goes on from the rows"
sh_ "sed -i 's/(id serial CONSTRAINT/(id int GENERATED ALWAYS AS IDENTITY CONSTRAINT/' migrations/schema.postgresql.sql"
create "identity purchases"
show
verify
rows "INSERT INTO purchases (note) VALUES ('c'); SELECT id, note FROM purchases ORDER BY id"
again
