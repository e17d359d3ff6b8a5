"""The offline demo: local outlets over fixtures/sites and the demo's setup (database, users, first crawl, review work)."""
