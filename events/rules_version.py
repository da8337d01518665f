"""Which version of the status rules (``events/rules.py``) folds commitments.

Kept apart from the rules so that reading the read models does not import them.
"""

# Raise it with any change to the rules that changes a folded status: statuses folded by
# other rules (kept in snapshots, or in read models) are then folded again from the facts.
RULES_VERSION = 4
