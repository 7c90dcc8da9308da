## Few-shot examples of the parse_obj_name LMP: ret_val is a name or a list of names.
objects = ['blue block', 'cyan block', 'purple bowl', 'gray bowl', 'brown bowl', 'pink block']
# the block closest to the purple bowl.
block_names = ['blue block', 'cyan block', 'pink block']
block_positions = get_obj_positions_np(block_names)
closest_block_idx = get_closest_idx(points=block_positions, point=get_obj_pos('purple bowl'))
ret_val = block_names[closest_block_idx]
objects = ['cyan block', 'gray block', 'cyan bowl', 'blue block', 'blue bowl', 'gray bowl']
# the blocks.
ret_val = ['cyan block', 'gray block', 'blue block']
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# the yellow objects.
ret_val = ['yellow bowl', 'yellow block']
objects = ['brown bowl', 'green block', 'brown block', 'green bowl', 'blue bowl', 'blue block']
# the left most block.
block_names = ['green block', 'brown block', 'blue block']
block_positions = get_obj_positions_np(block_names)
left_block_idx = np.argsort(block_positions[:, 0])[0]
ret_val = block_names[left_block_idx]
objects = ['brown bowl', 'red block', 'brown block', 'red bowl', 'pink bowl', 'pink block']
# the bowl farthest from the red block.
bowl_names = ['brown bowl', 'red bowl', 'pink bowl']
bowl_positions = get_obj_positions_np(bowl_names)
distances = np.linalg.norm(bowl_positions - get_obj_pos('red block'), axis=1)
ret_val = bowl_names[int(np.argmax(distances))]
objects = ['cyan block', 'purple block', 'blue block', 'purple bowl']
# the blocks.
ret_val = ['cyan block', 'purple block', 'blue block']
objects = ['orange block', 'red block', 'green block', 'orange bowl', 'red bowl', 'green bowl']
# the blocks.
ret_val = ['orange block', 'red block', 'green block']
objects = ['blue block', 'cyan block', 'purple bowl', 'brown bowl', 'pink block']
# blocks above the brown bowl.
block_names = ['blue block', 'cyan block', 'pink block']
brown_bowl_pos = get_obj_pos('brown bowl')
ret_val = [name for name in block_names if get_obj_pos(name)[1] > brown_bowl_pos[1]]
