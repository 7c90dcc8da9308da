"""reasoning: questions over synthetic tabletop scenes answered directly, with chain-of-thought, or with code.

Parts: questions (`questions`: a seeded generator of scenes, object- and position-selection questions and
their exact answers, kept apart from what the answerer sees), generation (`answer`: the three styles'
requests and reply parsing; the code style's LMP over the perception API), scoring (`questions.correct`:
exact names, positions within TOLERANCE; code runs in the policy sandbox against the question's scene) and the
report (`cap.evals.common.trials.summarize`, per style and question group, beside the paper's numbers).
"""
