"""The shipped configuration (sources.toml, lexicon/*.toml) as package data; the user's own files override it."""
