"""Wrong diffusion submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

SCHEDULE = "    return torch.linspace(beta_start, beta_end, T)  # (T,)\n"
Q_SAMPLE = "    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise  # (B, ...)\n"
DRAW_T = "    t = torch.randint(0, T, (x0.shape[0],), device=x0.device)  # (B,): every step 0 .. T - 1, high is exclusive\n"
LOSS = "    return F.mse_loss(model(x_t, t), noise)  # mean over batch and dimensions\n"
STEP_MEAN = "    mean = (x_t - betas[t] / torch.sqrt(1 - alpha_bar) * eps) / torch.sqrt(alphas[t])  # (B, ...)\n"
STEP_NOISE = "    return mean + torch.sqrt(betas[t]) * noise  # (B, ...)\n"
LAST_STEP = "    if t == 0:\n        return mean  # the last step returns the mean: no noise is added\n"
SAMPLE_LOOP = "        for t in reversed(range(betas.shape[0])):\n"

MISTAKES = {
    # T + 1 values.
    "schedule_one_too_many": [(SCHEDULE, "    return torch.linspace(beta_start, beta_end, T + 1)\n")],
    # torch.arange leaves out beta_end.
    "schedule_without_end": [(SCHEDULE, "    return torch.arange(T) * (beta_end - beta_start) / T + beta_start\n")],
    # ᾱ_t without the square root in the forward process.
    "q_sample_no_sqrt": [(Q_SAMPLE, "    return alpha_bar * x0 + (1 - alpha_bar) * noise\n")],
    # 1-based thinking: alphas_cumprod[t - 1].
    "q_sample_index_off_by_one": [
        ("    alpha_bar = alphas_cumprod.to(x0.device)[t]  # (B,)\n",
         "    alpha_bar = alphas_cumprod.to(x0.device)[t - 1]\n"),
    ],
    # Broadcasting written for (B, D) only.
    "q_sample_broadcast_2d_only": [
        ("    alpha_bar = alpha_bar.view(-1, *([1] * (x0.dim() - 1)))  # (B, 1, ...): broadcast over the rest\n",
         "    alpha_bar = alpha_bar[:, None]\n"),
    ],
    # The network trained to predict x0.
    "loss_target_x0": [(LOSS, "    return F.mse_loss(model(x_t, t), x0)\n")],
    # randint's high read as inclusive: t never reaches T - 1.
    "loss_t_misses_last_step": [(DRAW_T, "    t = torch.randint(0, T - 1, (x0.shape[0],), device=x0.device)\n")],
    # 1-based steps: t never 0.
    "loss_t_one_based": [(DRAW_T, "    t = torch.randint(1, T, (x0.shape[0],), device=x0.device)\n")],
    # A sum instead of a mean.
    "loss_sum_not_mean": [(LOSS, "    return ((model(x_t, t) - noise) ** 2).sum()\n")],
    # Uniform noise.
    "loss_uniform_noise": [("    noise = torch.randn_like(x0)  # (B, ...)\n", "    noise = torch.rand_like(x0)\n")],
    # α_t where ᾱ_t belongs in the sampler's mean.
    "step_alpha_for_alpha_bar": [(STEP_MEAN, "    mean = (x_t - betas[t] / torch.sqrt(1 - alphas[t]) * eps) / torch.sqrt(alphas[t])\n")],
    # ᾱ_t without the square root in the sampler's mean.
    "step_alpha_bar_no_sqrt": [(STEP_MEAN, "    mean = (x_t - betas[t] / (1 - alpha_bar) * eps) / torch.sqrt(alphas[t])\n")],
    # Noise added at the last step too.
    "step_noise_at_last_step": [(LAST_STEP, "")],
    # The variance of the previous step.
    "step_variance_of_previous_step": [(STEP_NOISE, "    return mean + torch.sqrt(betas[t - 1]) * noise\n")],
    # The standard deviation taken as beta_t.
    "step_sigma_is_beta": [(STEP_NOISE, "    return mean + betas[t] * noise\n")],
    # The sampler's loop stops before t = 0.
    "sample_skips_last_step": [(SAMPLE_LOOP, "        for t in range(betas.shape[0] - 1, 0, -1):\n")],
    # The sampler's loop runs upwards.
    "sample_runs_upwards": [(SAMPLE_LOOP, "        for t in range(betas.shape[0]):\n")],
    # x0 and the noise given each other's coefficient.
    "q_sample_coefficients_swapped": [(Q_SAMPLE, "    return (1 - alpha_bar).sqrt() * x0 + alpha_bar.sqrt() * noise\n")],
    # One step for the whole batch.
    "loss_one_t_per_batch": [(DRAW_T, "    t = torch.randint(0, T, (1,), device=x0.device)\n")],
    # The network given the clean data instead of x_t.
    "loss_model_sees_x0": [(LOSS, "    return F.mse_loss(model(x0, t), noise)\n")],
    # 1-based step indices in the sampler: every schedule value of the step before.
    "step_index_off_by_one": [
        ("    alpha_bar = torch.cumprod(alphas, dim=0)[t]  # alpha_bar_t\n",
         "    alpha_bar = torch.cumprod(alphas, dim=0)[t - 1]\n"),
        (STEP_MEAN, "    mean = (x_t - betas[t - 1] / torch.sqrt(1 - alpha_bar) * eps) / torch.sqrt(alphas[t - 1])\n"),
        (STEP_NOISE, "    return mean + torch.sqrt(betas[t - 1]) * noise\n"),
    ],
    # DDPM's other variance, the posterior's, where this exercise asks for beta_t.
    "step_posterior_variance": [
        (STEP_NOISE, "    alpha_bar_prev = torch.cumprod(alphas, dim=0)[t - 1]\n"
                     "    return mean + torch.sqrt(betas[t] * (1 - alpha_bar_prev) / (1 - alpha_bar)) * noise\n")],
    # The chain started from zeros.
    "sample_starts_from_zeros": [("    x = torch.randn(n, *shape, device=betas.device)  # (n, *shape): pure noise\n",
                                  "    x = torch.zeros(n, *shape, device=betas.device)\n")],
}
