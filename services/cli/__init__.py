"""The `suoops` command line."""
