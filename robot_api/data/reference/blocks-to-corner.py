# Hand-written reference program (not model output) for the blocks-to-corner family.
for name in get_obj_names():
    if name.endswith("block"):
        put_first_on_second(name, task["place"])
