"""control: reactive control with generated controllers (the paper's fgen cart-pole demonstration, measured).

Parts: tasks (`tasks`: gymnasium CartPole-v1 and MountainCar-v0 with a hint and a signature each, x seeds),
generation (`generate`: lmp.fgen writes the controller from the hinted call site), scoring (`score`: an
episode is one sandbox run calling the controller every step, the environment stepped on the host by RPC;
success is the environment's) and the report (`cap.evals.common.trials.summarize`, per condition and task).
"""
