-- 0012: an index for the links of one entity. Preparing reads an item's
-- comment and attachment links on every change it looks at (the echo
-- check) and the apply on every replica; with only the primary key
-- (connection, kind, local_id) each read scanned all the connection's
-- links of that kind, a cost growing with the history (8% of the engine's
-- CPU at 1,000 twins).

CREATE INDEX item_links_entity ON item_links (connection_id, kind, entity_id);
