## Few-shot examples of the tabletop_ui LMP (format: prompts/__init__.py). Every program here runs in the
## simulator in tests/test_prompt_examples.py, with nested-LMP and fgen answers taken from their example files.
## Only seen attributes appear here (colors, places, directions, ... of robot_api.attributes.SEEN): the
## benchmark's unseen split measures attributes the prompt never showed (tests/test_prompt_examples.py checks).
objects = ['yellow block', 'green block', 'yellow bowl', 'blue block', 'blue bowl', 'green bowl']
# put the yellow block on the yellow bowl.
say('Ok - putting the yellow block on the yellow bowl')
put_first_on_second('yellow block', 'yellow bowl')
objects = ['yellow block', 'green block', 'yellow bowl', 'blue block', 'blue bowl', 'green bowl']
# which block did you move.
say('I moved the yellow block')
objects = ['yellow block', 'green block', 'yellow bowl', 'blue block', 'blue bowl', 'green bowl']
# move the green block to the top right corner.
say('Got it - putting the green block on the top right corner')
corner_pos = parse_position('the top right corner')
put_first_on_second('green block', corner_pos)
objects = ['yellow block', 'green block', 'blue block', 'yellow bowl']
# stack the blue block on the yellow block on the green block.
order_bottom_to_top = ['green block', 'yellow block', 'blue block']
say(f'Sure - stacking from bottom to top: {", ".join(order_bottom_to_top)}')
stack_objects_in_order(object_names=order_bottom_to_top)
objects = ['orange block', 'red block', 'orange bowl', 'blue block', 'blue bowl', 'red bowl']
# move the orange block into its corresponding bowl.
matches = {'orange block': 'orange bowl'}
say('Got it - placing the orange block on the orange bowl')
for first, second in matches.items():
    put_first_on_second(first, get_obj_pos(second))
objects = ['orange block', 'red block', 'orange bowl', 'blue block', 'blue bowl', 'red bowl']
# make a line of blocks on the left side.
say('No problem! Making a line of blocks on the left side')
block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')
line_pts = parse_position(f'a 30cm vertical line on the left with {len(block_names)} points')
for block_name, pt in zip(block_names, line_pts):
    put_first_on_second(block_name, pt)
objects = ['yellow block', 'red block', 'yellow bowl', 'green block', 'green bowl', 'red bowl']
# can you cut the bowls in half.
say('no, I can only move objects around')
objects = ['yellow block', 'green block', 'yellow bowl', 'blue block', 'blue bowl', 'green bowl']
# stack the blocks on the top side with the blue one at the base.
block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')
order_bottom_to_top = ['blue block'] + [name for name in block_names if name != 'blue block']
say('Ok. stacking the blocks on the top side with the blue block at the base')
top_side = parse_position('the top side')
put_first_on_second('blue block', top_side)
stack_objects_in_order(object_names=order_bottom_to_top)
objects = ['red block', 'green block', 'red bowl', 'blue block', 'blue bowl', 'green bowl']
# move the grass-colored bowl to the left.
say('Sure - moving the green bowl left by 10 centimeters')
left_pos = parse_position('a point 10cm left of the green bowl')
put_first_on_second('green bowl', left_pos)
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# is the blue block to the left of the yellow bowl?.
if parse_question('is the blue block to the left of the yellow bowl?', f'objects = {get_obj_names()}'):
    say('yes, the blue block is to the left of the yellow bowl')
else:
    say('no, the blue block is not to the left of the yellow bowl')
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# how many yellow objects are there?.
n_yellow_objs = parse_question('how many yellow objects are there?', f'objects = {get_obj_names()}')
say(f'there are {n_yellow_objs} yellow objects')
objects = ['red block', 'green block', 'red bowl', 'blue block', 'blue bowl', 'green bowl']
# if you see an orange bowl put it on the blue bowl.
if is_obj_visible('orange bowl'):
    say('Putting the orange bowl on the blue bowl')
    put_first_on_second('orange bowl', 'blue bowl')
else:
    say("I don't see an orange bowl")
objects = ['yellow bowl', 'red block', 'yellow block', 'red bowl', 'green bowl', 'green block']
# put the red block on the closest bowl.
closest_bowl_name = parse_obj_name('the bowl closest to the red block', f'objects = {get_obj_names()}')
say(f'Putting the red block on the {closest_bowl_name}')
put_first_on_second('red block', closest_bowl_name)
objects = ['red block', 'blue block', 'yellow block', 'green bowl', 'yellow bowl']
# pick up the red block and place it on the yellow bowl.
say('Ok - putting the red block on the yellow bowl')
put_first_on_second('red block', 'yellow bowl')
objects = ['blue block', 'red block', 'yellow block', 'green bowl', 'blue bowl']
# pick up the block to the left of the green bowl and place it on the top side.
block_name = parse_obj_name('the block to the left of the green bowl', f'objects = {get_obj_names()}')
side_pos = parse_position('the top side')
say(f'Ok - putting the {block_name} on the top side')
put_first_on_second(block_name, side_pos)
objects = ['yellow block', 'green block', 'red block', 'blue bowl']
# pick up the block closest to the blue bowl and place it on the top right corner.
block_name = parse_obj_name('the block closest to the blue bowl', f'objects = {get_obj_names()}')
corner_pos = parse_position('the top right corner')
say(f'Sure - putting the {block_name} on the top right corner')
put_first_on_second(block_name, corner_pos)
objects = ['blue block', 'orange block', 'yellow block', 'red block', 'green bowl']
# pick up the second block from the top and place it on the left side.
block_name = parse_obj_name('the second block from the top', f'objects = {get_obj_names()}')
side_pos = parse_position('the left side')
say(f'Got it - putting the {block_name} on the left side')
put_first_on_second(block_name, side_pos)
objects = ['orange block', 'green block', 'blue block', 'green bowl']
# arrange the blocks as a triangle in the middle, turned by 30 degrees.
block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')
triangle_pts = parse_position(f'a triangle with size 10cm around the middle with {len(block_names)} points')
triangle_pts = transform_shape_pts('rotate it by 30 degrees', shape_pts=triangle_pts)
say('Making a turned triangle of blocks around the middle of the workspace')
for block_name, pt in zip(block_names, triangle_pts):
    put_first_on_second(block_name, pt)
objects = ['orange block', 'red block', 'green block', 'orange bowl', 'red bowl', 'green bowl']
# put all the blocks in the bowls with matching colors.
say('Sure - putting each block in the bowl of its color')
for block_name in parse_obj_name('the blocks', f'objects = {get_obj_names()}'):
    bowl_name = block_name.replace('block', 'bowl')
    if is_obj_visible(bowl_name):
        put_first_on_second(block_name, bowl_name)
