"""What the agents share: returns and advantages, rollouts, networks, evaluation.

Pure functions and small classes; no base "Algorithm" class lives here.
"""
