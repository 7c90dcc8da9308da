## Few-shot examples of the tabletop_ui LMP (format: prompts/__init__.py). Every program here runs in the
## simulator in tests/test_prompt_examples.py, with nested-LMP and fgen answers taken from their example files.
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
objects = ['cyan block', 'gray block', 'cyan bowl', 'blue block', 'blue bowl', 'gray bowl']
# move the cyan block into its corresponding bowl.
matches = {'cyan block': 'cyan bowl'}
say('Got it - placing the cyan block on the cyan bowl')
for first, second in matches.items():
    put_first_on_second(first, get_obj_pos(second))
objects = ['cyan block', 'gray block', 'cyan bowl', 'blue block', 'blue bowl', 'gray bowl']
# make a line of blocks on the right side.
say('No problem! Making a line of blocks on the right side')
block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')
line_pts = parse_position(f'a 30cm vertical line on the right with {len(block_names)} points')
for block_name, pt in zip(block_names, line_pts):
    put_first_on_second(block_name, pt)
objects = ['yellow block', 'red block', 'yellow bowl', 'gray block', 'gray bowl', 'red bowl']
# can you cut the bowls in half.
say('no, I can only move objects around')
objects = ['yellow block', 'green block', 'yellow bowl', 'gray block', 'gray bowl', 'green bowl']
# stack the blocks on the right side with the gray one on the bottom.
say('Ok. stacking the blocks on the right side with the gray block on the bottom')
right_side = parse_position('the right side')
put_first_on_second('gray block', right_side)
order_bottom_to_top = ['gray block', 'green block', 'yellow block']
stack_objects_in_order(object_names=order_bottom_to_top)
objects = ['pink block', 'green block', 'pink bowl', 'blue block', 'blue bowl', 'green bowl']
# move the grass-colored bowl to the left.
say('Sure - moving the green bowl left by 10 centimeters')
left_pos = parse_position('a point 10cm left of the green bowl')
put_first_on_second('green bowl', left_pos)
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# is the blue block to the right of the yellow bowl?.
if parse_question('is the blue block to the right of the yellow bowl?', f'objects = {get_obj_names()}'):
    say('yes, the blue block is to the right of the yellow bowl')
else:
    say('no, the blue block is not to the right of the yellow bowl')
objects = ['yellow bowl', 'blue block', 'yellow block', 'blue bowl']
# how many yellow objects are there?.
n_yellow_objs = parse_question('how many yellow objects are there?', f'objects = {get_obj_names()}')
say(f'there are {n_yellow_objs} yellow objects')
objects = ['pink block', 'green block', 'pink bowl', 'blue block', 'blue bowl', 'green bowl']
# if you see a purple bowl put it on the blue bowl.
if is_obj_visible('purple bowl'):
    say('Putting the purple bowl on the blue bowl')
    put_first_on_second('purple bowl', 'blue bowl')
else:
    say("I don't see a purple bowl")
objects = ['brown bowl', 'red block', 'brown block', 'red bowl', 'pink bowl', 'pink block']
# put the red block on the farthest bowl.
farthest_bowl_name = parse_obj_name('the bowl farthest from the red block', f'objects = {get_obj_names()}')
say(f'Putting the red block on the {farthest_bowl_name}')
put_first_on_second('red block', farthest_bowl_name)
objects = ['cyan block', 'purple block', 'blue block', 'purple bowl']
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
