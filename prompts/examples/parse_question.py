## Few-shot examples of the parse_question LMP: ret_val is the answer (bool, number, names).
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# is the blue block to the left of the yellow bowl?.
ret_val = get_obj_pos('blue block')[0] < get_obj_pos('yellow bowl')[0]
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# how many yellow objects are there?.
yellow_object_names = parse_obj_name('the yellow objects', f'objects = {get_obj_names()}')
ret_val = len(yellow_object_names)
objects = ['red block', 'green block', 'red bowl', 'blue block', 'blue bowl', 'green bowl']
# is the red block on the green bowl?.
ret_val = bbox_contains_pt(container_name='green bowl', obj_name='red block')
objects = ['red block', 'green block', 'red bowl', 'blue block', 'blue bowl', 'green bowl']
# what are the blocks left of the green bowl?.
green_bowl_pos = get_obj_pos('green bowl')
ret_val = [name for name in ['red block', 'green block', 'blue block'] if get_obj_pos(name)[0] < green_bowl_pos[0]]
