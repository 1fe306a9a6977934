# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Exploring your masked convolutions
# Run this after filling in `causal_mask` and `MaskedConv2d`. It draws the masks and the
# **receptive field** of a stack of layers: the gradient of one output pixel with respect to
# the input. Causal means it is zero on that pixel and on every later one (raster order); the
# pixels up and to the right that stay zero although they come earlier are the **blind spot**.

# %%
import matplotlib.pyplot as plt
import torch

import pixelcnn

# %%
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
for ax, mask_type in zip(axes, "AB"):
    ax.imshow(pixelcnn.causal_mask(5, mask_type), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"type {mask_type}, 5x5")
    ax.set_xticks([]), ax.set_yticks([])
plt.show()

# %%
def receptive_field(n_layers, size=15, pixel=(7, 7)):
    """|d out[pixel] / d x| for a type-A 3x3 layer followed by n_layers type-B 3x3 layers."""
    torch.manual_seed(0)
    layers = [pixelcnn.MaskedConv2d(1, 8, 3, "A")]
    layers += [pixelcnn.MaskedConv2d(8, 8, 3, "B") for _ in range(n_layers)]
    layers += [pixelcnn.MaskedConv2d(8, 1, 1, "B")]
    x = torch.randn(1, 1, size, size, requires_grad=True)
    h = x
    for layer in layers:
        h = torch.tanh(layer(h))
    h[0, 0, pixel[0], pixel[1]].backward()
    return (x.grad[0, 0].abs() > 0).float()


fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, n in zip(axes, (1, 3, 6)):
    field = receptive_field(n)
    field[7, 7] = 0.5  # mark the output pixel
    ax.imshow(field, cmap="viridis")
    ax.set_title(f"A + {n} B layers")
    ax.set_xticks([]), ax.set_yticks([])
plt.show()
# Grey-green: the pixel itself (must be unseen). Yellow: pixels it depends on. The triangle
# up and to the right that stays dark however many layers you add is the blind spot.
