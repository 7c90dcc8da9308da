# Hand-written reference program (not model output) for the blocks-in-mismatched-bowls family.
blocks = [n for n in get_obj_names() if n.endswith("block")]
bowls = [n for n in get_obj_names() if n.endswith("bowl")]
# Order the bowls like the blocks' colors, then shift by one: no block meets its own color.
ordered = [b.replace("block", "bowl") for b in blocks if b.replace("block", "bowl") in bowls]
ordered += [w for w in bowls if w not in ordered]
for block, bowl in zip(blocks, ordered[1:] + ordered[:1]):
    put_first_on_second(block, bowl)
