"""The invoice service: owns PostgreSQL and serves suoops.invoice.v1."""
