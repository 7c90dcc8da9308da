# Hand-written reference program (not model output) for the blocks-in-different-corners family.
corners = ["top left corner", "top right corner", "bottom left corner", "bottom right corner"]
blocks = [n for n in get_obj_names() if n.endswith("block")]
for block, corner in zip(blocks, corners):
    put_first_on_second(block, corner)
