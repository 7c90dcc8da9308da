## Few-shot examples of the parse_obj_name LMP: ret_val is a name (one object) or a list of names (several).
## Only seen attributes appear here (see tabletop_ui.py).
objects = ['yellow block', 'green block', 'red block', 'blue bowl']
# the block closest to the blue bowl.
block_names = [name for name in objects if name.endswith('block')]
block_positions = get_obj_positions_np(block_names)
closest_block_idx = get_closest_idx(points=block_positions, point=get_obj_pos('blue bowl'))
ret_val = block_names[closest_block_idx]
objects = ['orange block', 'red block', 'orange bowl', 'blue block', 'blue bowl', 'red bowl']
# the blocks.
ret_val = [name for name in objects if name.endswith('block')]
objects = ['green block', 'blue block', 'green bowl', 'red bowl']
# the blue block.
ret_val = 'blue block'
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# the yellow objects.
ret_val = [name for name in objects if name.startswith('yellow ')]
objects = ['yellow bowl', 'green block', 'yellow block', 'green bowl', 'blue bowl', 'blue block']
# the left most block.
block_names = [name for name in objects if name.endswith('block')]
block_positions = get_obj_positions_np(block_names)
left_block_idx = np.argsort(block_positions[:, 0])[0]
ret_val = block_names[left_block_idx]
objects = ['yellow bowl', 'red block', 'yellow block', 'red bowl', 'green bowl', 'green block']
# the bowl closest to the red block.
bowl_names = [name for name in objects if name.endswith('bowl')]
bowl_positions = get_obj_positions_np(bowl_names)
distances = np.linalg.norm(bowl_positions - get_obj_pos('red block'), axis=1)
ret_val = bowl_names[int(np.argmin(distances))]
objects = ['blue block', 'red block', 'yellow block', 'green bowl', 'blue bowl']
# the block to the left of the green bowl.
block_names = [name for name in objects if name.endswith('block')]
block_positions = get_obj_positions_np(block_names)
offsets = block_positions[:, 0] - get_obj_pos('green bowl')[0]
ret_val = block_names[int(np.argmin(offsets))]
objects = ['blue block', 'orange block', 'yellow block', 'red block', 'green bowl']
# the second block from the top.
block_names = [name for name in objects if name.endswith('block')]
block_positions = get_obj_positions_np(block_names)
top_to_bottom = np.argsort(-block_positions[:, 1])
ret_val = block_names[top_to_bottom[1]]
objects = ['orange block', 'green block', 'blue block', 'green bowl']
# the blocks.
ret_val = [name for name in objects if name.endswith('block')]
objects = ['orange block', 'red block', 'green block', 'orange bowl', 'red bowl', 'green bowl']
# the blocks.
ret_val = [name for name in objects if name.endswith('block')]
objects = ['blue block', 'orange block', 'green bowl', 'yellow bowl', 'red block']
# the block to the top of the yellow bowl.
block_names = [name for name in objects if name.endswith('block')]
block_positions = get_obj_positions_np(block_names)
offsets = block_positions[:, 1] - get_obj_pos('yellow bowl')[1]
ret_val = block_names[int(np.argmax(offsets))]
objects = ['yellow block', 'green block', 'yellow bowl', 'blue block', 'blue bowl', 'green bowl']
# the blocks.
ret_val = [name for name in objects if name.endswith('block')]
