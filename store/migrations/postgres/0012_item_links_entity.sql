-- 0012 on PostgreSQL: sqlite/0012_item_links_entity.sql, unchanged.

CREATE INDEX item_links_entity ON item_links (connection_id, kind, entity_id);
