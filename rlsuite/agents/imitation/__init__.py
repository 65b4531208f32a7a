"""Learning from an expert when the reward is unknown (the lecture's imitation learning).

- ``bc``: behavior cloning, supervised learning of the expert's actions (bc.py);
- ``dagger``: the expert labels the learner's own states (dagger.py);
- ``gail``, ``airl``: inverse RL as a GAN, one adversarial trainer (adversarial.py) whose actor
  is rlsuite's A2C or PPO trained on the discriminator's reward;
- ``maxent-irl``: exact maximum-entropy IRL on the grid games (maxent_irl.py).

All learn from a demonstration file (rlsuite/demos.py); experts.py holds the experts.
"""

from rlsuite.agents.imitation.adversarial import AIRL, GAIL
from rlsuite.agents.imitation.bc import BC
from rlsuite.agents.imitation.dagger import DAgger
from rlsuite.agents.imitation.maxent_irl import MaxEntIRL

__all__ = ["AIRL", "BC", "GAIL", "DAgger", "MaxEntIRL"]
