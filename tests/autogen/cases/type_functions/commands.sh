# An enum loses a value and is reordered: it is recreated (renamed away,
# made anew, its column converted through text, the old one dropped). The
# functions whose signature holds it, and the view that calls one, are
# dropped before and made again after.
create "fewer moods" --allow-destructive
show
verify
rows "SELECT id, m FROM notes ORDER BY id; SELECT best_mood(); SELECT count(*) FROM v_happy"
again
