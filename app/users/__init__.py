"""Users and their site-role assignments."""
