# Hand-written reference program (not model output) for the pick-place family.
put_first_on_second(task["block"], task["target"])
