## Few-shot examples of the transform_shape_pts LMP: shape_pts is an (N, 2) array; set new_shape_pts.
## Without an objects line, the examples run against tests' default scene with a small triangle as shape_pts.
# make it bigger by 1.5.
new_shape_pts = scale_pts_around_centroid_np(shape_pts, scale_x=1.5, scale_y=1.5)
# move it to the left by 10cm.
new_shape_pts = translate_pts_np(shape_pts, delta=[-0.1, 0])
# rotate it by 30 degrees.
new_shape_pts = rotate_pts_around_centroid_np(shape_pts, angle=np.deg2rad(30))
# rotate it clockwise by 40 degrees and make it slightly smaller.
new_shape_pts = rotate_pts_around_centroid_np(shape_pts, angle=-np.deg2rad(40))
new_shape_pts = scale_pts_around_centroid_np(new_shape_pts, scale_x=0.7, scale_y=0.7)
# move it toward the blue block.
mean_delta = get_obj_pos('blue block') - np.mean(shape_pts, axis=0)
new_shape_pts = translate_pts_np(shape_pts, delta=mean_delta / 2)
