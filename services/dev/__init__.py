"""`suoops dev`: embedded PostgreSQL, Redis and S3, the env file and a process supervisor."""
