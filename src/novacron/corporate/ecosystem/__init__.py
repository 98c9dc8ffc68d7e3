"""Joint ventures, licensing, co-innovation labs, academic and government partnerships."""
