"""Privacy: retention policies and the sweep, legal holds, deletion with tombstones and receipts."""
