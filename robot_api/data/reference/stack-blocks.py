# Hand-written reference program (not model output) for the stack-blocks family.
blocks = [name for name in get_obj_names() if name.endswith("block")]
for upper, lower in zip(blocks[1:], blocks):
    put_first_on_second(upper, lower)
