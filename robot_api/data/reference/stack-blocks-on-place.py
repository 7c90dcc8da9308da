# Hand-written reference program (not model output) for the stack-blocks-on-place family.
blocks = [n for n in get_obj_names() if n.endswith("block")]
put_first_on_second(blocks[0], task["place"])
for upper, lower in zip(blocks[1:], blocks):
    put_first_on_second(upper, lower)
