"""Account alerts: what Meta reports about numbers and their accounts, and rejected tokens."""
