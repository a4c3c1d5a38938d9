"""Calls: the records the PBX nodes report, their history, and the recordings of them."""
