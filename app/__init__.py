"""usersecrets: a per-user secrets service whose authorization is a Casbin policy."""
