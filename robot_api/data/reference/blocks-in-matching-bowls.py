# Hand-written reference program (not model output) for the blocks-in-matching-bowls family.
for name in get_obj_names():
    if name.endswith("block"):
        bowl = name.replace("block", "bowl")
        if is_obj_visible(bowl):
            put_first_on_second(name, bowl)
