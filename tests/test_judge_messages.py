"""A message must never claim what is not so: each message of the gmm, vae, gan and pixelcnn judges, triggered by
a realistic submission (the reference with a small edit) that does exactly what the message says (issue 17).

Each case is (exercise, message key, edits of the reference, the check that must lose points, words of the
message). The edit is the claim made true: "the KL is averaged over latent dimensions" is triggered by a KL that
averages over latent dimensions, and so on. Judged in this process (grading.judge_in_process), without the
training smoke tests.

Messages tested elsewhere, not repeated here:
- every mistake of the catalogues tests/submissions/{gmm,vae,gan,pixelcnn}/mistakes.py, with its message's words:
  test_gmm_grading.py::test_each_mistake_loses_points_and_is_named, test_vae.py::test_mistake_loses_points_and_is_named,
  test_gan.py::test_mistake_loses_points_and_is_named, test_pixelcnn.py::test_mistake_loses_points_and_is_named
  (gmm: no_2pi, half_log_det, diagonal_covariance, transposed_resp, hard_assignments, no_logsumexp,
  sum_not_mean_log_likelihood, cov_over_n, weights_unnormalised, reg_covar_dropped, stops_too_early,
  no_final_m_step; vae: kl_sign_flipped, kl_mean_over_dims, kl_constant_dropped, kl_half_dropped,
  exp_logvar_as_std, ll_mean_over_pixels, bce_on_probabilities (the ±150 "loss on probabilities"),
  ll_returns_scalar, elbo_mean_over_batch, noise_shared_across_batch, sample_not_rsample, uniform_noise;
  gan: labels_swapped, discriminator_loss_halved, sum_not_mean, concat_batch_mean, sigmoid_twice,
  saturating_generator_loss, names_swapped, log_of_sigmoid, softplus_by_hand, generator_first, no_zero_grad,
  no_detach_no_zero_grad, minimax_in_step, d_loss_halved; pixelcnn: types_swapped, leaky_mask,
  centre_row_kept, transposed, construction_only, no_padding, nats, unstable_nll, one_pass, column_major,
  thresholded_sampling);
- "correct, given your X" (judging.judge_given): test_one_mistake_costs_once.py and the cascade tests of
  test_vae.py, test_gan.py, test_pixelcnn.py;
- the VAE smoke test's "posterior has collapsed" and "fits held-out digits poorly":
  test_vae.py::test_a_collapsed_posterior_fails_the_smoke_bar, ::test_the_best_independent_pixel_model_fails_the_smoke_bar;
  the GAN's "does not learn the ring": test_gan.py::test_broken_step_fails_the_smoke_test; the PixelCNN's
  "evaluated with correct masks": test_pixelcnn.py::test_a_mask_that_breaks_under_training_fails_the_smoke_test;
- the ±150 explanations of bernoulli_log_likelihood shared with the autoencoder (checks/bernoulli.py):
  test_vae.py and test_autoencoder's cases of the same wording.

Messages no realistic submission can trigger (kept as guards, not tested):
- gmm log_gaussian_pdf "the result should be a float array; got dtype …": every formula of a log-density gives floats.
- gan "the discriminator step changed the generator's parameters": the probe records the generator before the first
  g_optimizer.step(); only code that writes the generator's weights directly, outside both optimizers, moves it.
- gan "the {key}'s parameters could not be read back", vae "the trained weights came back malformed", pixelcnn
  "the trained weights could not be loaded": the probes read the course's own models, whatever the student wrote.
- vae "reparameterize returned results of different shapes on repeated calls": needs a z whose shape changes
  from call to call; vae "dz/dmu should be exactly 1": needs a z that scales mu.
- pixelcnn "pixels are sampled in reverse raster order" was removed: with the chain model, reverse order gives what
  one pass gives, so the judge now says what both do (the counter-example below).

Not listed: the shared wording of checks/diagnostics.py (describe_difference, smallest_case, explain_error) and of
checks/judging.py (as_array, as_float, require_finite, judge_dtypes, judge_meta), tested in test_diagnostics.py and
with each exercise's catalogue; the exercises only name what is compared ("the KL", "`resp`").
"""

from __future__ import annotations

import pytest

from autograder import grading
from autograder.checking import load_checks
from autograder.grading import import_file
from conftest import ROOT
from mutations import mutated

# ---------------------------------------------------------------- edits of the references, by what they do

GMM_RETURN = "    return -0.5 * (D * np.log(2.0 * np.pi) + log_det + mahalanobis)\n"
GMM_RESP = "    resp = np.exp(log_joint - log_px[:, None])  # (N, K)\n"
GMM_COV = "        covs[k] = (resp[:, k, None] * diff).T @ diff / Nk[k]  # (D, D)\n"
GMM_REG = "        covs[k] += reg_covar * np.eye(D)\n"
GMM_M_CALL = "        weights, means, covs = m_step(X, resp, reg_covar)\n"
GMM_STOP = "        converged = bool(history) and abs(log_likelihood - history[-1]) < tol\n"
GMM_HISTORY_ONE_SHORT = [  # every iteration runs its E- and M-step; the last one's log-likelihood is not recorded
    (GMM_STOP + "        history.append(log_likelihood)\n        if converged:\n            break\n",
     GMM_STOP + "        if converged:\n            break\n        history.append(log_likelihood)\n")]

VAE_STD = "    std = torch.exp(0.5 * logvar)  # (B, D): the standard deviation is exp(logvar / 2)\n"
VAE_EPS = "    eps = torch.randn_like(std)  # (B, D): fresh noise for every element\n"
VAE_Z = "    return mu + std * eps  # (B, D)\n"
VAE_KL = "    return 0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)  # (B,)\n"
VAE_LL = "    return -nll.flatten(1).sum(dim=1)  # (B,)\n"
VAE_NLL = '    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (B, ...), stable for any logits\n'
VAE_ELBO = "    return bernoulli_log_likelihood(x, logits) - kl_to_standard_normal(mu, logvar)  # (B,)\n"
VAE_LL_CALL, VAE_KL_CALL = "bernoulli_log_likelihood(x, logits)", "kl_to_standard_normal(mu, logvar)"


def _elbo(expression):
    return [(VAE_ELBO, f"    return {expression.format(ll=VAE_LL_CALL, kl=VAE_KL_CALL)}\n")]


GAN_D_RETURN = "    return real_term + fake_term\n"
GAN_G = "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n"
GAN_MINIMAX = "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n"
GAN_D_STEP = "    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))\n"
GAN_G_STEP = "    g_loss = generator_loss(discriminator(generator(z)))\n"
GAN_D_ZERO, GAN_G_ZERO = "    d_optimizer.zero_grad()\n", "    g_optimizer.zero_grad()\n"
GAN_D_UPDATE = ("    d_optimizer.zero_grad()\n" + GAN_D_STEP + "    d_loss.backward()\n    d_optimizer.step()\n")

PIX_MASK_B = '    if mask_type == "B":\n        mask[centre, centre] = 1.0\n'
PIX_ROW_LEFT = "    mask[centre, :centre] = 1.0  # left of the centre on the centre row\n"
PIX_BUFFER = '        self.register_buffer("mask", causal_mask(kernel_size, mask_type))  # (k, k), moves with .to(device)\n'
PIX_FORWARD = "        return self._conv_forward(x, self.weight * self.mask, self.bias)  # (B, out, H, W)\n"
PIX_SUPER = "        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)\n"
PIX_NLL = "    return nats.flatten(1).mean(dim=1).mean() / math.log(2.0)\n"
PIX_NATS = ('    nats = F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none")'
            "  # (B, C, H, W)\n")
PIX_DRAW = "            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(logits[:, :, i, j]))\n"
PIX_LOOP = ("    for i in range(H):\n        for j in range(W):\n            logits = model(x)  # (n, C, H, W)\n"
            + PIX_DRAW)


def _own_mask(lines):
    """MaskedConv2d building its own mask (not calling causal_mask), changed by `lines` after the right one."""
    return [(PIX_BUFFER, PIX_BUFFER + "".join(f"        {line}\n" for line in lines))]


CASES = [
    # ------------------------------------------------ gmm: log_gaussian_pdf
    ("gmm", "2pi_not_times_D", [("D * np.log(2.0 * np.pi)", "np.log(2.0 * np.pi)")],
     "log_gaussian_pdf: values", ["log(2π) is not multiplied by D/2"]),
    ("gmm", "log_det_not_halved", [(GMM_RETURN, "    return -0.5 * (D * np.log(2.0 * np.pi) + mahalanobis) - log_det\n")],
     "log_gaussian_pdf: values", ["the log-determinant is not halved"]),
    ("gmm", "log_det_missing", [(GMM_RETURN, "    return -0.5 * (D * np.log(2.0 * np.pi) + mahalanobis)\n")],
     "log_gaussian_pdf: values", ["the log-determinant term is missing"]),
    ("gmm", "mahalanobis_not_halved", [(GMM_RETURN, "    return -0.5 * (D * np.log(2.0 * np.pi) + log_det) - mahalanobis\n")],
     "log_gaussian_pdf: values", ["the Mahalanobis term is not halved"]),
    ("gmm", "cov_not_inverted", [('    mahalanobis = np.einsum("nd,nd->n", y, y)  # (N,) squared length of each row\n',
                                  '    mahalanobis = np.einsum("nd,de,ne->n", diff, cov, diff)\n')],
     "log_gaussian_pdf: values", ["Σ is used where Σ⁻¹ belongs"]),
    ("gmm", "column_result", [(GMM_RETURN, GMM_RETURN.replace("mahalanobis)", "mahalanobis)[:, None]"))],
     "log_gaussian_pdf: returns an (N,)", ["should be a NumPy array of shape", "of shape (", ", 1)"]),
    # ------------------------------------------------ gmm: e_step
    ("gmm", "resp_over_points", [(GMM_RESP, "    resp = np.exp(log_joint - logsumexp(log_joint, axis=0))  # (N, K)\n")],
     "e_step: responsibilities", ["normalised over data points (axis 0)"]),
    ("gmm", "resp_unnormalised", [(GMM_RESP, "    resp = np.exp(log_joint)  # (N, K)\n")],
     "e_step: responsibilities", ["rows of `resp` do not sum to 1"]),
    ("gmm", "no_mixture_weights", [("[np.log(weights[k]) + log_gaussian_pdf", "[log_gaussian_pdf")],
     "e_step: responsibilities", ["the mixture weights are missing"]),
    ("gmm", "likelihood_not_log", [("float(np.mean(log_px))", "float(np.exp(np.mean(log_px)))")],
     "e_step: mean log-likelihood", ["not a likelihood"]),
    ("gmm", "log_likelihood_underflows", [("float(np.mean(log_px))",
                                           "float(np.mean(np.log(np.exp(log_joint).sum(axis=1))))")],
     "e_step: stable for points far", ["the mean log-likelihood is -inf", "underflow to 0"]),
    # ------------------------------------------------ gmm: m_step
    ("gmm", "covs_diagonal", [(GMM_COV, GMM_COV.replace("= (resp", "= np.diag(np.diag((resp").replace(
        "/ Nk[k]", "/ Nk[k]))"))], "m_step: weights, means", ["keep only their diagonal"]),
    ("gmm", "reg_covar_ignored", [(GMM_REG, "        covs[k] += 1e-6 * np.eye(D)\n")],
     "m_step: honours a non-default reg_covar", ["the reg_covar argument is ignored"]),
    ("gmm", "reg_covar_default_zero", [("def m_step(X, resp, reg_covar=1e-6)", "def m_step(X, resp, reg_covar=0.0)")],
     "m_step: honours a non-default reg_covar", ["without reg_covar the covariances get no regularisation"]),
    ("gmm", "reg_covar_everywhere", [(GMM_REG, "        covs[k] += reg_covar\n")],
     "m_step: honours a non-default reg_covar", ["should change by exactly", "diagonal only"]),
    ("gmm", "weights_a_list", [("    return weights, means, covs\n", "    return list(weights), means, covs\n")],
     "m_step: shapes and dtypes", ["`weights` should be a float NumPy array; got list"]),
    # ------------------------------------------------ gmm: fit_gmm
    ("gmm", "history_one_short", GMM_HISTORY_ONE_SHORT,
     "fit_gmm: agrees with scikit-learn", ["`history` has 67 entries where scikit-learn runs 68 iterations"]),
    ("gmm", "tol_ignored", [(GMM_STOP, GMM_STOP.replace("< tol", "< 1e-4"))],
     "fit_gmm: agrees with scikit-learn", ["with tol=1 `history` has", "is the tol argument used?"]),
    ("gmm", "reg_covar_not_passed", [(GMM_M_CALL, "        weights, means, covs = m_step(X, resp)\n")],
     "fit_gmm: agrees with scikit-learn", ["scikit-learn's with reg_covar=1e-6, the default, where reg_covar=0.001 "
                                           "was passed", "hand fit_gmm's reg_covar on to m_step"]),
    ("gmm", "history_never_appended", [("        history.append(log_likelihood)\n", "")],
     "fit_gmm: agrees with scikit-learn", ["`history` should be a non-empty list"]),
    ("gmm", "resp_normalised_per_component", [(GMM_M_CALL, "        weights, means, covs = m_step(X, resp / resp.sum(axis=0), "
                                                            "reg_covar)\n")],
     "fit_gmm: the log-likelihood never decreases", ["decreased from", "what fit_gmm passes"]),
    ("gmm", "always_converged", [(GMM_STOP, "        converged = True\n")],
     "fit_gmm: the log-likelihood never decreases", ["history has a single entry"]),
    ("gmm", "parameters_not_updated", [(GMM_M_CALL, "        m_step(X, resp, reg_covar)\n")],
     "fit_gmm: the log-likelihood never decreases", ["EM did not move the parameters"]),
    ("gmm", "one_extra_iteration", [("    for _ in range(max_iter):\n", "    for _ in range(max_iter + 1):\n")],
     "fit_gmm: stops after max_iter", ["history should have 3 entries; yours has 4"]),
    # ------------------------------------------------ vae: reparameterize
    ("vae", "returns_mu", [(VAE_Z, "    return mu + 0 * std * eps  # (B, D)\n")],
     "reparameterize: over many draws", ["z is always equal to mu"]),
    ("vae", "reseeded", [(VAE_EPS, "    torch.manual_seed(0)\n" + VAE_EPS)],
     "reparameterize: over many draws", ["every call returns the same z"]),
    ("vae", "noise_unscaled", [(VAE_Z, "    return mu + eps  # (B, D)\n")],
     "reparameterize: over many draws", ["the variance of z is 1"]),
    ("vae", "std_wrong_power", [(VAE_STD, "    std = torch.exp(0.25 * logvar)\n")],
     "reparameterize: over many draws", ["the variance of z differs from exp(logvar)"]),
    ("vae", "noise_not_centred", [(VAE_EPS, "    eps = torch.rand_like(std) * 12**0.5  # variance 1\n")],
     "reparameterize: over many draws", ["the mean of z differs from mu"]),
    ("vae", "noise_shared_across_latents", [(VAE_EPS, "    eps = torch.randn_like(std[:, :1]).expand_as(std)\n")],
     "reparameterize: over many draws", ["correlated across latent dimensions"]),
    ("vae", "noise_partly_shared", [(VAE_EPS, "    eps = 0.6 * torch.randn_like(std[:1]) + 0.8 * torch.randn_like(std)\n")],
     "reparameterize: independent noise", ["the noise of different examples is correlated"]),
    ("vae", "no_randomness", [(VAE_Z, "    return mu + 0 * std * eps  # (B, D)\n")],
     "reparameterize: independent noise", ["z has no randomness at all"]),
    ("vae", "mu_detached", [(VAE_Z, "    return mu.detach() + std * eps  # (B, D)\n")],
     "reparameterize: differentiable", ["no gradient reaches mu"]),
    ("vae", "std_detached", [(VAE_STD, "    std = torch.exp(0.5 * logvar).detach()\n")],
     "reparameterize: differentiable", ["no gradient reaches logvar"]),
    ("vae", "std_is_exp_logvar_grad", [(VAE_STD, "    std = torch.exp(logvar)\n")],
     "reparameterize: differentiable", ["dz/dlogvar is (z - mu), not (z - mu) / 2"]),
    ("vae", "noise_float64", [(VAE_EPS, "    eps = torch.randn(std.shape, dtype=torch.float64, device=std.device)\n")],
     "every function returns a tensor with the dtype", ["reparameterize should return torch.float32",
                                                        "torch.randn_like(mu)"]),
    # ------------------------------------------------ vae: kl_to_standard_normal
    ("vae", "kl_std_as_exp_logvar", [(VAE_KL, VAE_KL.replace("torch.exp(logvar)", "torch.exp(logvar)**2").replace(
        "- logvar", "- 2 * logvar"))],
     "kl_to_standard_normal: matches torch.distributions on random", ["exp(logvar) as the standard deviation"]),
    ("vae", "kl_no_mu", [(VAE_KL, VAE_KL.replace(" + mu**2", ""))],
     "kl_to_standard_normal: matches torch.distributions on random", ["the mu² term is missing"]),
    ("vae", "kl_no_logvar", [(VAE_KL, VAE_KL.replace(" - logvar", ""))],
     "kl_to_standard_normal: matches torch.distributions on random", ["the −logvar term is missing"]),
    ("vae", "kl_mean_over_batch", [(VAE_KL, VAE_KL.replace("dim=1)", "dim=1).mean()"))],
     "kl_to_standard_normal: matches torch.distributions on random", ["the KL is averaged over the batch"]),
    ("vae", "kl_sum_over_everything", [(VAE_KL, VAE_KL.replace(", dim=1)", ")"))],
     "kl_to_standard_normal: matches torch.distributions on random", ["got a scalar"]),
    ("vae", "kl_not_summed", [(VAE_KL, "    return 0.5 * (torch.exp(logvar) + mu**2 - 1.0 - logvar)\n")],
     "kl_to_standard_normal: matches torch.distributions on random", ["sum it over the latent dimensions"]),
    ("vae", "kl_squeezed", [(VAE_KL, "    return 0.5 * torch.sum((torch.exp(logvar) + mu**2 - 1.0 - logvar).squeeze(), "
                                     "dim=-1)\n")],
     "kl_to_standard_normal: shape (B,)", ["the KL should have shape", "yours has shape ()"]),
    # ------------------------------------------------ vae: bernoulli_log_likelihood
    ("vae", "ll_is_mean_nll", [(VAE_LL, "    return nll.flatten(1).sum(dim=1).mean()\n")],
     "bernoulli_log_likelihood: matches", ["batch-mean loss (negative log-likelihood)"]),
    ("vae", "ll_total", [(VAE_LL, "    return -nll.sum()\n")],
     "bernoulli_log_likelihood: matches", ["got a scalar"]),
    ("vae", "ll_per_pixel", [(VAE_LL, "    return -nll\n")],
     "bernoulli_log_likelihood: matches", ["sum it over every non-batch dimension"]),
    ("vae", "ll_is_bce", [(VAE_LL, "    return nll.flatten(1).sum(dim=1)\n")],
     "bernoulli_log_likelihood: matches", ["the log-likelihood has the wrong sign"]),
    ("vae", "ll_is_mean_bce", [(VAE_LL, "    return nll.flatten(1).mean(dim=1)\n")],
     "bernoulli_log_likelihood: matches", ["averaged over pixels and has the wrong sign"]),
    ("vae", "ll_log_of_sigmoid", [(VAE_NLL, "    p = torch.sigmoid(logits)\n"
                                            "    nll = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))\n")],
     "bernoulli_log_likelihood: stable", ["NaN or infinite for logits of ±150 (and right for moderate logits)"]),
    ("vae", "ll_clamped_logits", [(VAE_NLL, "    logits = logits.clamp(-20, 20)\n" + VAE_NLL)],
     "bernoulli_log_likelihood: stable", ["right for moderate logits but wrong for confident ones"]),
    ("vae", "ll_halved", [(VAE_LL, "    return -0.5 * nll.flatten(1).sum(dim=1)\n")],
     "bernoulli_log_likelihood: stable", ["wrong for moderate logits as well"]),
    # ------------------------------------------------ vae: elbo
    ("vae", "elbo_total", _elbo("({ll} - {kl}).sum()"), "elbo: per-example", ["got a scalar"]),
    ("vae", "elbo_is_loss", _elbo("{kl} - {ll}"), "elbo: per-example", ["returns the negative ELBO"]),
    ("vae", "elbo_plus_kl", _elbo("{ll} + {kl}"), "elbo: per-example", ["the KL is added instead of subtracted"]),
    ("vae", "elbo_no_kl", _elbo("{ll}"), "elbo: per-example", ["returns only the log-likelihood"]),
    ("vae", "elbo_no_ll", _elbo("-{kl}"), "elbo: per-example", ["returns only the negative KL"]),
    ("vae", "elbo_detached", _elbo("({ll} - {kl}).detach()"), "elbo: gradients", ["no gradient reaches logits"]),
    ("vae", "elbo_is_loss_grad", _elbo("{kl} - {ll}"), "elbo: gradients", ["the gradient has the wrong sign"]),
    ("vae", "elbo_mean_grad", _elbo("({ll} - {kl}).mean()"), "elbo: gradients", ["1/B of the expected"]),
    # ------------------------------------------------ gan: the losses
    ("gan", "d_loss_negated", [(GAN_D_RETURN, "    return -(real_term + fake_term)\n")],
     "discriminator_loss: matches", ["the discriminator loss has the wrong sign"]),
    ("gan", "g_loss_negated", [(GAN_G, "    return -" + GAN_G.lstrip()[len("return "):])],
     "generator_loss: the non-saturating", ["generator_loss has the wrong sign"]),
    ("gan", "g_loss_is_d_objective", [(GAN_G, GAN_G.replace("torch.ones_like", "torch.zeros_like"))],
     "generator_loss: the non-saturating", ["uses the discriminator's objective"]),
    ("gan", "minimax_negated", [(GAN_MINIMAX, GAN_MINIMAX.replace("return -F", "return F"))],
     "generator_loss_minimax: the saturating", ["generator_loss_minimax has the wrong sign"]),
    ("gan", "minimax_summed", [(GAN_MINIMAX, GAN_MINIMAX.replace("))\n", '), reduction="sum")\n'))],
     "generator_loss_minimax: the saturating", ["sums instead of means in generator_loss_minimax"]),
    ("gan", "minimax_sigmoid_twice", [(GAN_MINIMAX, "    fake_logits = torch.sigmoid(fake_logits)\n" + GAN_MINIMAX)],
     "generator_loss_minimax: the saturating", ["the sigmoid is applied twice in generator_loss_minimax"]),
    ("gan", "d_loss_a_float", [(GAN_D_RETURN, "    return (real_term + fake_term).item()\n")],
     "losses: each returns a 0-d tensor", ["discriminator_loss should return a torch tensor", "returned float"]),
    ("gan", "g_loss_per_example", [(GAN_G, GAN_G.replace("))\n", '), reduction="none")\n'))],
     "losses: each returns a 0-d tensor", ["generator_loss should return a scalar (0-d) tensor"]),
    ("gan", "d_loss_detached", [(GAN_D_RETURN, "    return (real_term + fake_term).detach()\n")],
     "losses: each returns a 0-d tensor", ["discriminator_loss's result does not require grad"]),
    ("gan", "minimax_non_saturating", [(GAN_MINIMAX, GAN_G)],
     "generator losses: the non-saturating one", ["generator_loss_minimax does not saturate"]),
    ("gan", "minimax_non_saturating_value", [(GAN_MINIMAX, GAN_G)],
     "generator_loss_minimax: the saturating", ["holds the non-saturating loss"]),
    ("gan", "g_loss_saturating_gradient", [(GAN_G, GAN_MINIMAX)],
     "generator losses: the non-saturating one", ["generator_loss saturates"]),
    ("gan", "g_loss_negated_gradient", [(GAN_G, "    return -" + GAN_G.lstrip()[len("return "):])],
     "generator losses: the non-saturating one", ["gradient has the wrong sign"]),
    # ------------------------------------------------ gan: gan_train_step (with the reference's losses)
    ("gan", "step_no_detach_no_zero_grad", [(GAN_D_ZERO, ""), (GAN_G_ZERO, ""),
                                            (GAN_D_STEP, GAN_D_STEP.replace("fake.detach()", "fake"))],
     "gan_train_step: parameters", ["the fakes are not detached", "gradients are not zeroed"]),
    ("gan", "step_no_zero_grad_g", [(GAN_G_ZERO, "")],
     "gan_train_step: parameters", ["the generator's gradients are not zeroed"]),
    ("gan", "step_no_zero_grad_d", [(GAN_D_ZERO, "")],
     "gan_train_step: parameters", ["the discriminator's gradients are not zeroed"]),
    ("gan", "step_real_fake_swapped", [(GAN_D_STEP, "    d_loss = discriminator_loss(discriminator(fake.detach()), "
                                                    "discriminator(real))\n")],
     "gan_train_step: parameters", ["labels are swapped in the discriminator loss"]),
    ("gan", "step_sigmoid_twice", [(GAN_D_STEP, "    d_loss = discriminator_loss(torch.sigmoid(discriminator(real)), "
                                                "torch.sigmoid(discriminator(fake.detach())))\n"),
                                   (GAN_G_STEP, "    g_loss = generator_loss(torch.sigmoid(discriminator(generator(z))))\n")],
     "gan_train_step: parameters", ["the sigmoid is applied twice"]),
    ("gan", "step_sums", [
        (GAN_D_STEP, "    d_loss = (F.binary_cross_entropy_with_logits(discriminator(real), torch.ones(len(real), 1), "
                     'reduction="sum")\n              + F.binary_cross_entropy_with_logits(discriminator(fake.detach()), '
                     'torch.zeros(len(z), 1), reduction="sum"))\n'),
        (GAN_G_STEP, "    g_loss = F.binary_cross_entropy_with_logits(discriminator(generator(z)), torch.ones(len(z), 1), "
                     'reduction="sum")\n')],
     "gan_train_step: parameters", ["the losses sum instead of averaging"]),
    ("gan", "step_d_loss_doubled", [(GAN_D_STEP, GAN_D_STEP.replace("= discriminator_loss", "= 2 * discriminator_loss"))],
     "gan_train_step: parameters", ["the first update that differs is the discriminator update of call 1"]),
    ("gan", "step_returns_tensors", [("    return d_loss.item(), g_loss.item()\n", "    return d_loss, g_loss\n")],
     "gan_train_step: returns", ["as Python floats (loss.item())", "returned torch.Tensor"]),
    ("gan", "step_returns_swapped", [("    return d_loss.item(), g_loss.item()\n", "    return g_loss.item(), d_loss.item()\n")],
     "gan_train_step: returns", ["the discriminator loss returned by call 1"]),
    ("gan", "step_two_d_steps", [(GAN_D_UPDATE, GAN_D_UPDATE + GAN_D_UPDATE)],
     "gan_train_step: the discriminator step comes first", ["stepped in the order ddgddg"]),
    ("gan", "step_two_d_steps", [(GAN_D_UPDATE, GAN_D_UPDATE + GAN_D_UPDATE)],
     "gan_train_step: parameters", ["step 2 (call 1) is a discriminator update where the reference takes a generator"]),
    ("gan", "step_stale_d_grad", [(GAN_D_ZERO, "")],
     "gan_train_step: zeroes gradients", ["the discriminator's first update applies it", "d_optimizer.zero_grad()"]),
    ("gan", "step_stale_g_grad", [(GAN_G_ZERO, "")],
     "gan_train_step: zeroes gradients", ["the generator's first update applies it (the discriminator's does not)",
                                          "g_optimizer.zero_grad()"]),
    # ------------------------------------------------ pixelcnn: causal_mask
    ("pixelcnn", "b_hides_centre", [(PIX_MASK_B, "")],
     "causal_mask: values", ["type B hides the centre pixel (that is type A's mask)"]),
    ("pixelcnn", "no_left_of_centre", [(PIX_ROW_LEFT, "")],
     "causal_mask: values", ["the centre row is zeroed entirely"]),
    ("pixelcnn", "right_half_kept", [(PIX_ROW_LEFT, "    mask[centre, centre + 1:] = 1.0\n")],
     "causal_mask: values", ["keeps the right half instead of the left half"]),
    ("pixelcnn", "flipped", [("    return mask\n", "    return mask.flip(0, 1)\n")],
     "causal_mask: values", ["the mask is flipped"]),
    ("pixelcnn", "all_ones", [("    mask = torch.zeros(kernel_size, kernel_size)", "    mask = torch.ones(kernel_size, kernel_size)")],
     "causal_mask: values", ["the mask is all ones", "causal_mask(1, 'A') should be [[0]]"]),
    ("pixelcnn", "unknown_type_accepted", [
        ("    if mask_type not in (\"A\", \"B\"):\n        raise ValueError(f\"mask_type must be 'A' or 'B', got {mask_type!r}\")\n",
         "")],
     "causal_mask: a mask type other", ["returned a mask"]),
    ("pixelcnn", "unknown_type_assert", [
        ("    if mask_type not in (\"A\", \"B\"):\n        raise ValueError(f\"mask_type must be 'A' or 'B', got {mask_type!r}\")\n",
         "    assert mask_type in (\"A\", \"B\")\n")],
     "causal_mask: a mask type other", ["raised AssertionError"]),
    # ------------------------------------------------ pixelcnn: MaskedConv2d
    ("pixelcnn", "conv_kwargs_dropped", [(PIX_SUPER, "        super().__init__(in_channels, out_channels, kernel_size, "
                                                     "padding=conv_kwargs[\"padding\"])\n")],
     "MaskedConv2d: output equals", ["has a bias although bias=False was passed"]),
    ("pixelcnn", "zero_weights", [(PIX_SUPER, PIX_SUPER + "        nn.init.zeros_(self.weight)\n")],
     "MaskedConv2d: output equals", ["its weights are all zero where the mask keeps them"]),
    ("pixelcnn", "mask_not_in_forward", [(PIX_FORWARD, "        return super().forward(x)\n")],
     "MaskedConv2d: output equals", ["the mask is not applied in forward"]),
    ("pixelcnn", "layer_always_type_b", [(PIX_BUFFER, PIX_BUFFER.replace("mask_type))", '"B"))'))],
     "MaskedConv2d: output equals", ["type A keeps the centre pixel (that is type B's mask)"]),
    ("pixelcnn", "too_much_padding", [('        conv_kwargs.setdefault("padding", kernel_size // 2)\n',
                                       '        conv_kwargs.setdefault("padding", kernel_size - 1)\n')],
     "MaskedConv2d: keeps the height", ["maps x of shape"]),
    # ------------------------------------------------ pixelcnn: causality of a stack
    ("pixelcnn", "layer_sees_itself", [(PIX_BUFFER, PIX_BUFFER.replace("mask_type))", '"B"))'))],
     "causality: an output pixel never", ["depends on input pixel", "itself"]),
    ("pixelcnn", "layer_sees_right", _own_mask(["self.mask[kernel_size // 2, kernel_size // 2 + 1:] = 1.0"]),
     "causality: an output pixel never", ["to its right on the same row"]),
    ("pixelcnn", "layer_mask_transposed", [(PIX_BUFFER, PIX_BUFFER.replace("mask_type))", "mask_type).T.contiguous())"))],
     "causality: an output pixel never", ["in a later row"]),
    ("pixelcnn", "layer_hides_everything", _own_mask(["self.mask.zero_()"]),
     "causality: an output pixel never", ["no output pixel of the stack depends on any earlier input pixel"]),
    ("pixelcnn", "layer_hides_centre_row", _own_mask(["self.mask[kernel_size // 2] = 0.0"]),
     "causality: the stack sees every earlier", ["does not depend on the earlier input pixel"]),
    # ------------------------------------------------ pixelcnn: nll_bits_per_dim
    ("pixelcnn", "nll_sum_over_pixels", [(PIX_NLL, PIX_NLL.replace(".mean(dim=1)", ".sum(dim=1)"))],
     "nll_bits_per_dim: values", ["summed over the pixels of an image"]),
    ("pixelcnn", "nll_sum_over_batch", [(PIX_NLL, PIX_NLL.replace(".mean(dim=1).mean()", ".mean(dim=1).sum()"))],
     "nll_bits_per_dim: values", ["summed over the batch"]),
    ("pixelcnn", "nll_sum_over_everything", [(PIX_NLL, "    return nats.sum() / math.log(2.0)\n")],
     "nll_bits_per_dim: values", ["summed over everything"]),
    ("pixelcnn", "nll_sigmoid_first", [(PIX_NATS, PIX_NATS.replace("(logits,", "(torch.sigmoid(logits),"))],
     "nll_bits_per_dim: values", ["a sigmoid is applied before a loss that expects logits"]),
    ("pixelcnn", "nll_is_log_likelihood", [(PIX_NLL, PIX_NLL.replace("return nats", "return -nats"))],
     "nll_bits_per_dim: values", ["this is the log-likelihood"]),
    ("pixelcnn", "nll_clamped_logits", [(PIX_NATS, "    logits = logits.clamp(-20, 20)\n" + PIX_NATS)],
     "nll_bits_per_dim: stable", ["for logits of ±100 the result", "work with logits"]),
    ("pixelcnn", "nll_float64", [(PIX_NLL, PIX_NLL.replace("math.log(2.0)\n", "math.log(2.0)).double()\n").replace(
        "return nats", "return (nats"))],
     "nll_bits_per_dim: a scalar tensor", ["should return float32; it returns torch.float64"]),
    ("pixelcnn", "nll_is_log_likelihood_value", [(PIX_NLL, PIX_NLL.replace("return nats", "return -nats"))],
     "nll_bits_per_dim: a scalar tensor", ["a negative log-likelihood of finite logits is positive"]),
    ("pixelcnn", "nll_rewrapped", [(PIX_NLL, PIX_NLL.replace("return nats", "return torch.tensor((nats").replace(
        "math.log(2.0)\n", "math.log(2.0)).item())\n"))],
     "nll_bits_per_dim: a scalar tensor", ["the result does not require grad"]),
    # ------------------------------------------------ pixelcnn: sample
    ("pixelcnn", "row_at_once", [(PIX_LOOP, "    for i in range(H):\n        logits = model(x)  # (n, C, H, W)\n"
                                            "        x[:, :, i, :] = torch.bernoulli(torch.sigmoid(logits[:, :, i, :]))\n")],
     "sample: raster order", ["a whole row is sampled at once"]),
    ("pixelcnn", "reverse_raster", [(PIX_LOOP, PIX_LOOP.replace("range(H)", "reversed(range(H))").replace(
        "range(W)", "reversed(range(W))"))],
     "sample: raster order", ["no pixel saw the pixels before it", "or in reverse order?"]),
    ("pixelcnn", "returns_probabilities", [(PIX_DRAW, "            x[:, :, i, j] = torch.sigmoid(logits[:, :, i, j])\n")],
     "sample: (n, C, H, W) Bernoulli", ["do not return probabilities"]),
    ("pixelcnn", "draws_compared_not_assigned", [(PIX_DRAW, PIX_DRAW.replace("] = torch", "] == torch"))],
     "sample: (n, C, H, W) Bernoulli", ["all samples are 0: no drawn pixel reaches the images"]),
    ("pixelcnn", "sample_sigmoid_twice", [(PIX_DRAW, PIX_DRAW.replace("torch.sigmoid(logits", "torch.sigmoid(torch.sigmoid(logits")
                                           .replace("j]))", "j])))"))],
     "sample: (n, C, H, W) Bernoulli", ["a sigmoid is applied twice before sampling"]),
    ("pixelcnn", "sample_one_means_above", [(PIX_DRAW, "            p = torch.sigmoid(logits[:, :, i, j])\n"
                                                       "            x[:, :, i, j] = (torch.rand_like(p) > p).float()\n")],
     "sample: (n, C, H, W) Bernoulli", ["1 with probability 0.25 instead of 0.75"]),
    ("pixelcnn", "device_argument_ignored", [("    if device is None:\n        device = next(model.parameters()).device\n",
                                              "    device = next(model.parameters()).device\n")],
     "MaskedConv2d, nll_bits_per_dim and sample work on any device", ["must build the images on `device`"]),
]


@pytest.fixture(scope="module")
def verdict(tmp_path_factory):
    """verdict(exercise, key, edits, check) -> the Verdict of the check whose name starts with `check`, for the
    reference with `edits`, judged in this process with that check's probe alone (fast)."""
    folder = tmp_path_factory.mktemp("judge_messages")
    modules = {}

    def judge(exercise, key, edits, check):
        source = mutated(exercise, edits)
        if (exercise, key) not in modules:
            path = folder / f"{exercise}_{key}.py"
            path.write_text(source, encoding="utf-8")
            modules[exercise, key] = source, import_file(path, f"{exercise}_{key}")
        assert modules[exercise, key][0] == source, f"{exercise}/{key} names two different submissions"
        checks = load_checks(exercise)
        name, probe = next((c.name, c.probe) for c in checks.checks if c.name.startswith(check))
        skip = tuple(n for n in checks.probe_names() if n != probe)
        return grading.judge_in_process(ROOT, exercise, exercise, modules[exercise, key][1], skip=skip)[name]

    return judge


@pytest.mark.parametrize("exercise, key, edits, check, words", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_message_fires_for_a_submission_that_does_what_it_says(verdict, exercise, key, edits, check, words):
    judged = verdict(exercise, key, edits, check)
    assert judged.fraction < 1, f"{check} kept full marks"
    for word in words:
        assert word in judged.feedback, judged.feedback


# Submissions for which a judge used to claim what is not so (issue 17): the check still loses points, and the
# false claim is gone. (exercise, key, edits, check, words that must not appear)
COUNTER_EXAMPLES = [
    # EM ran every iteration (E- and M-step); only `history` misses the last entry.
    ("gmm", "history_one_short", GMM_HISTORY_ONE_SHORT, "fit_gmm: agrees with scikit-learn", ["EM ran"]),
    # The −logvar term is there twice, not missing.
    ("vae", "kl_logvar_twice", [(VAE_KL, VAE_KL.replace(" - logvar", " - 2 * logvar"))],
     "kl_to_standard_normal: matches torch.distributions on random", ["is missing"]),
    # d_optimizer.zero_grad() is called; the discriminator ends elsewhere only because the generator moved.
    ("gan", "step_stale_g_grad", [(GAN_G_ZERO, "")], "gan_train_step: zeroes gradients", ["d_optimizer.zero_grad()"]),
    # Type A hides the centre; the leak comes from the centre row right of the centre.
    ("pixelcnn", "layer_sees_right", _own_mask(["self.mask[kernel_size // 2, kernel_size // 2 + 1:] = 1.0"]),
     "causality: an output pixel never", ["itself", "type A"]),
    # causal_mask is right (its own check passes); the layer transposes it. The stand-in mask, symmetric under
    # transposition, must not make the layer look right "given your causal_mask".
    ("pixelcnn", "layer_mask_transposed", [(PIX_BUFFER, PIX_BUFFER.replace("mask_type))", "mask_type).T.contiguous())"))],
     "causality: an output pixel never", ["given your"]),
    # Nothing is thresholded: the draws are compared with x (==) instead of written into it.
    ("pixelcnn", "draws_compared_not_assigned", [(PIX_DRAW, PIX_DRAW.replace("] = torch", "] == torch"))],
     "sample: (n, C, H, W) Bernoulli", ["thresholded"]),
    # Drawn one pixel at a time, in reverse order: not "in one pass".
    ("pixelcnn", "reverse_raster", [(PIX_LOOP, PIX_LOOP.replace("range(H)", "reversed(range(H))").replace(
        "range(W)", "reversed(range(W))"))], "sample: raster order", ["all pixels are sampled in one pass"]),
]


@pytest.mark.parametrize("exercise, key, edits, check, false_words", COUNTER_EXAMPLES,
                         ids=[f"{c[0]}-{c[1]}" for c in COUNTER_EXAMPLES])
def test_no_message_claims_what_the_submission_does_not_do(verdict, exercise, key, edits, check, false_words):
    judged = verdict(exercise, key, edits, check)
    assert judged.fraction < 1, f"{check} kept full marks: {judged.feedback}"
    for words in false_words:
        assert words not in judged.feedback, judged.feedback
