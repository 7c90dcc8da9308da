"""reasoning: questions over synthetic tabletop scenes answered directly, with chain-of-thought, or with code.

Parts: questions (`questions`: a seeded generator of scenes, object- and position-selection questions and
their exact answers, kept apart from what the answerer sees), generation (`generate`: the three styles'
requests and reply parsing; the code style's LMP over the perception API, its code run in the policy sandbox
against the question's scene), scoring (`score`: exact names, positions within TOLERANCE) and the report
(`cap.evals.common.trials.summarize`, per style and question group, beside the paper's numbers in `bench`).
"""
