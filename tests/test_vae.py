"""The VAE, IWAE and autoencoder exercises graded end to end: reference, stub, known mistakes, correct alternatives."""

import math

import pytest
import torch

from autograder import grading
from autograder.grading import import_file
from conftest import ROOT, SUBMISSIONS, assert_named_mistake, feedback_of, solution_source
from mutations import load_mistakes, mistake_files, mutated

torch.set_num_threads(1)  # a shared 2-core machine

VAE_SUBMISSIONS = SUBMISSIONS / "vae"
MUTATIONS = load_mistakes("vae")  # name -> (old, new) edits of the reference
SMOKE = "training smoke test"

# Known-wrong submissions (the reference with the edits in tests/submissions/vae/mistakes.py) and words their
# feedback must use.
MISTAKES = {
    "kl_sign_flipped": "KL term has the wrong sign",
    "exp_logvar_as_std": "exp(logvar) is used as the standard deviation",
    "kl_mean_over_dims": "averaged over latent dimensions",
    "bce_on_probabilities": "probabilities",
    "ll_mean_over_pixels": "averaged over pixels",
    "sample_not_rsample": ".sample()",
    "elbo_mean_over_batch": "ELBO is averaged over the batch",
    "noise_shared_across_batch": "same noise is used for every example",
    "kl_constant_dropped": "constant −1 is missing",
    "kl_half_dropped": "factor ½ is missing",
    "ll_returns_scalar": "averaged over the batch",
    "uniform_noise": "not Gaussian",
}
CORRECT = ["correct_distributions", "correct_float64_softplus"]
SANDBOXED = ["kl_sign_flipped", "sample_not_rsample"]  # also graded end to end, with the training smoke test


@pytest.fixture(scope="module")
def mistake_verdicts(tmp_path_factory):
    """verdicts(name) -> check name -> Verdict of mistake `name`, judged in-process without the smoke test."""
    path = mistake_files(tmp_path_factory.mktemp("vae_mistakes"), "vae", MUTATIONS)
    cache = {}

    def verdicts(name):
        if name not in cache:
            module = import_file(path(name), f"vae_{name}")
            cache[name] = grading.judge_in_process(ROOT, "vae", "vae", module, skip=("train",))
        return cache[name]

    return verdicts


@pytest.fixture(scope="module")
def vae_results(course, tmp_path_factory):
    """Grade the reference, the stub, the correct folders and a few mistakes end to end, once each."""
    from autograder.grading import grade_submission

    def grade_folder(folder):
        return grade_submission(course, ROOT, folder, ["vae"], "cpu").exercises[0]

    results = {"reference": grade_folder(ROOT / "solutions" / "vae"), "stub": grade_folder(ROOT / "exercises" / "vae")}
    for folder in sorted(p for p in VAE_SUBMISSIONS.iterdir() if p.is_dir() and p.name != "__pycache__"):
        results[folder.name] = grade_folder(folder)
    for name in SANDBOXED:
        folder = tmp_path_factory.mktemp(name)
        (folder / "vae.py").write_text(mutated("vae", MUTATIONS[name]), encoding="utf-8")
        results[name] = grade_folder(folder)
    return results


def test_reference_gets_full_marks(vae_results):
    result = vae_results["reference"]
    assert result.score == pytest.approx(result.max_score) == pytest.approx(25), feedback_of(result)


def test_reference_passes_the_training_smoke_test(vae_results):
    smoke = [c for c in vae_results["reference"].checks if c.name.startswith(SMOKE)]
    assert len(smoke) == 1 and smoke[0].passed, smoke[0].feedback


def test_stub_gets_zero_with_not_implemented(vae_results):
    result = vae_results["stub"]
    assert result.score == 0
    assert all("not implemented" in c.feedback for c in result.checks), feedback_of(result)


@pytest.mark.parametrize("name", CORRECT)
def test_correct_alternatives_get_full_marks(vae_results, name):
    result = vae_results[name]
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_every_mistake_has_a_submission():
    folders = {p.name for p in VAE_SUBMISSIONS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(CORRECT)
    assert set(MUTATIONS) == set(MISTAKES)
    assert len(MISTAKES) >= 8


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(mistake_verdicts, name):
    assert_named_mistake(mistake_verdicts(name), name, MISTAKES[name], [])


@pytest.mark.parametrize("name", SANDBOXED)
def test_mistake_loses_points_end_to_end(vae_results, name):
    result = vae_results[name]
    assert result.score < result.max_score - 0.5, f"{name} kept {result.score:.2f}/{result.max_score}"
    assert MISTAKES[name] in feedback_of(result), feedback_of(result)


def checks_of(result, prefix):
    return [c for c in result.checks if c.name.startswith(prefix)]


def test_a_wrong_kl_costs_only_in_the_kl_checks(vae_results):
    """The sign-flipped KL diverges in training, but elbo and the smoke test are judged given a correct KL."""
    result = vae_results["kl_sign_flipped"]
    for check in checks_of(result, "elbo") + checks_of(result, SMOKE):
        assert check.passed and "correct, given your `kl_to_standard_normal`" in check.feedback, check.feedback
    assert all(not c.passed for c in checks_of(result, "kl_to_standard_normal"))


def test_a_term_returning_a_scalar_costs_nothing_in_elbo(mistake_verdicts):
    """elbo is literally ll − KL: a term that returns a scalar is that term's mistake, and no message says otherwise."""
    verdicts = mistake_verdicts("ll_returns_scalar")
    elbo = {c: v for c, v in verdicts.items() if c.startswith("elbo")}
    assert len(elbo) == 2 and all(v.fraction == 1 for v in elbo.values()), elbo
    assert "correct, given your `bernoulli_log_likelihood`" in elbo["elbo: per-example log-likelihood − KL, shape (B,)"].feedback
    assert not any("elbo is not" in v.feedback for v in verdicts.values())
    assert verdicts["bernoulli_log_likelihood: matches the reference for image-shaped and flat inputs"].fraction < 1


def test_non_differentiable_sample_costs_only_in_reparameterize(vae_results):
    result = vae_results["sample_not_rsample"]
    lost = [c.name for c in result.checks if not c.passed]
    assert lost and all(name.startswith("reparameterize") for name in lost), lost
    assert "correct, given your `reparameterize`" in checks_of(result, SMOKE)[0].feedback


# ---------------------------------------------------------------- the judge's evaluation, trusted side


def test_evaluation_bounds_are_ordered_for_an_untrained_model():
    """log p(x) >= IWAE bound >= ELBO, so the IW negative log-likelihood is at most the negative ELBO."""
    from autograder.checks.vae.checks import evaluate_vae
    from genmodels.data import digits
    from genmodels.vae import VAEConfig, new_model

    held_out = evaluate_vae(new_model(VAEConfig(), seed=3), digits().test[:50])
    assert math.isfinite(held_out.negative_elbo) and held_out.iw_nll <= held_out.negative_elbo
    assert held_out.negative_elbo > 30  # 64 pixels near p = 0.5: about 64 ln 2 = 44 nats
    assert held_out.kl >= 0


def _smoke_verdict(model):
    from autograder.checking import Evidence
    from autograder.checks.vae import checks
    from genmodels.vae import layer_weights

    return checks._judge_training(Evidence({}, layer_weights(model), {}, {}))


def test_a_collapsed_posterior_fails_the_smoke_bar():
    """Sampling with .sample() gives the encoder no gradient: q(z|x) collapses onto the prior (KL ≈ 0), about 25.3
    nats, which the bar must not let through."""
    from autograder.checks.vae import probes
    from genmodels.data import digits
    from genmodels.vae import TrainConfig, VAEConfig, new_model, train_vae

    reference = import_file(ROOT / "solutions/vae/vae.py", "vae_reference_for_collapse")

    def not_reparameterized(mu, logvar):
        return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()

    model = train_vae(new_model(VAEConfig(), seed=0), digits().train, not_reparameterized, reference.elbo,
                      TrainConfig(steps=probes.SMOKE_STEPS, seed=0))
    verdict = _smoke_verdict(model)
    assert verdict.fraction == 0 and "collapsed" in verdict.feedback, verdict.feedback


def test_the_best_independent_pixel_model_fails_the_smoke_bar():
    """A decoder that ignores z and predicts each pixel's training frequency, with q(z|x) = p(z): 25.2 nats."""
    from genmodels.data import digits
    from genmodels.vae import VAEConfig, new_model

    model = new_model(VAEConfig(), seed=0)
    p = torch.as_tensor(digits().train.reshape(-1, 64).mean(0)).clamp(1e-3, 1 - 1e-3).float()
    with torch.no_grad():
        for last in (model.encoder[-1], model.decoder[-1]):
            last.weight.zero_()
            last.bias.zero_()
        model.decoder[-1].bias.copy_(torch.log(p / (1 - p)))
    verdict = _smoke_verdict(model)
    assert verdict.fraction == 0 and "collapsed" in verdict.feedback and "25.2" in verdict.feedback, verdict.feedback


def test_weights_round_trip_through_plain_arrays():
    from genmodels.vae import VAEConfig, layer_weights, load_layer_weights, new_model

    model = new_model(VAEConfig(), seed=1)
    copy = load_layer_weights(new_model(VAEConfig(), seed=2), layer_weights(model))
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(copy.encode(x)[0], model.encode(x)[0])
    with pytest.raises(ValueError):
        load_layer_weights(new_model(VAEConfig(hidden=16)), layer_weights(model))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reference_full_marks_on_cuda(course):
    from autograder.grading import grade_submission

    result = grade_submission(course, ROOT, ROOT / "solutions" / "vae", ["vae"], "cuda").exercises[0]
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


# ---------------------------------------------------------------- iwae and autoencoder


IWAE = solution_source("iwae")
AUTOENCODER = solution_source("autoencoder")
# mistake (tests/submissions/<exercise>/mistakes.py) -> words the feedback must use
IWAE_MISTAKES = {"no_minus_log_k": "subtract log k", "naive_exp": "overflows or underflows",
                 "mean_of_log_weights": "averages the log-weights"}
AUTOENCODER_MISTAKES = {"mean_over_pixels": "averaged over pixels", "sum_over_batch": "summed over the batch",
                        "bce_on_probabilities": "probabilities", "item": "differentiabl"}


def _mutate(source, old, new):
    assert source.count(old) == 1, f"the reference no longer contains {old!r}"
    return source.replace(old, new)


def test_small_catalogues_name_every_mistake():
    assert set(load_mistakes("iwae")) == set(IWAE_MISTAKES)
    assert set(load_mistakes("autoencoder")) == set(AUTOENCODER_MISTAKES)


def test_iwae_reference_full_marks_and_stub_zero(grade):
    result = grade("iwae", {"iwae.py": IWAE})
    assert result.score == pytest.approx(result.max_score) == pytest.approx(5), feedback_of(result)
    assert grade("iwae", {"iwae.py": (ROOT / "exercises/iwae/iwae.py").read_text()}).score == 0


@pytest.mark.parametrize("name", sorted(IWAE_MISTAKES))
def test_iwae_mistakes_are_named(grade, name):
    result = grade("iwae", {"iwae.py": mutated("iwae", load_mistakes("iwae")[name])})
    assert result.score < result.max_score - 0.5
    assert IWAE_MISTAKES[name] in feedback_of(result), feedback_of(result)


def test_iwae_torch_distributions_free_alternative(grade):
    source = _mutate(IWAE, "torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])",
                     "(lambda m: m.squeeze(dim) + torch.log(torch.exp(values - m).mean(dim=dim)))"
                     "(values.max(dim=dim, keepdim=True).values)")
    result = grade("iwae", {"iwae.py": source})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_autoencoder_reference_full_marks_and_stub_zero(grade):
    result = grade("autoencoder", {"autoencoder.py": AUTOENCODER})
    assert result.score == pytest.approx(result.max_score) == pytest.approx(5), feedback_of(result)
    assert grade("autoencoder", {"autoencoder.py": (ROOT / "exercises/autoencoder/autoencoder.py").read_text()}).score == 0


@pytest.mark.parametrize("name", sorted(AUTOENCODER_MISTAKES))
def test_autoencoder_mistakes_are_named(grade, name):
    result = grade("autoencoder", {"autoencoder.py": mutated("autoencoder", load_mistakes("autoencoder")[name])})
    assert result.score < result.max_score - 0.1
    assert AUTOENCODER_MISTAKES[name] in feedback_of(result), feedback_of(result)


# Each message the autoencoder's judges can give, triggered by a submission (the reference with (old, new) edits):
# case -> (edits, check name prefix -> words its feedback must use, or None where the check must pass). A message
# never claims what is not so: only a loss that returns what a loss on probabilities returns is told so (ABSENT).
LOSS = "    return per_pixel.flatten(1).sum(dim=1).mean()"
PER_PIXEL = 'F.binary_cross_entropy_with_logits(logits, x, reduction="none")'
TORCH = ("import torch.nn.functional as F", "import torch\nimport torch.nn.functional as F")
VALUES, EXTREME, DIFFERENTIABLE, DTYPES = ("reconstruction_loss: matches", "reconstruction_loss: stable",
                                           "reconstruction_loss: a differentiable", "reconstruction_loss: a tensor with")
ON_PROBABILITIES = load_mistakes("autoencoder")["bce_on_probabilities"]
MEAN_OVER_PIXELS = load_mistakes("autoencoder")["mean_over_pixels"]
AUTOENCODER_MESSAGES = {
    "per_example": ([(".sum(dim=1).mean()", ".sum(dim=1)")],
                    {VALUES: "one value per example", EXTREME: "one value per example"}),
    "per_pixel": ([(LOSS, "    return per_pixel")], {VALUES: "one value per pixel"}),
    "over_the_batch_axis": ([(".sum(dim=1).mean()", ".sum(dim=0)")], {VALUES: "should have shape ()"}),
    "mean_over_pixels": (MEAN_OVER_PIXELS, {VALUES: "averaged over pixels", EXTREME: "averaged over pixels"}),
    "sum_over_batch": (load_mistakes("autoencoder")["sum_over_batch"], {VALUES: "summed over the batch"}),
    "wrong_sign": ([(LOSS, "    return -per_pixel.flatten(1).sum(dim=1).mean()")],
                   {VALUES: "wrong sign", EXTREME: "wrong sign"}),
    "first_example_only": ([(".sum(dim=1).mean()", ".sum(dim=1)[0]")],
                           {VALUES: "the loss is", EXTREME: "wrong for moderate logits as well"}),
    "nan_everywhere": ([(LOSS, LOSS + " * torch.log(x.mean() - 2.0)"), TORCH], {VALUES: "nan for moderate logits"}),
    "bce_on_probabilities": (ON_PROBABILITIES, {
        EXTREME: "returns what F.binary_cross_entropy on sigmoid(logits) (a loss on probabilities) returns"}),
    "bce_on_probabilities_mean_over_pixels": (ON_PROBABILITIES + MEAN_OVER_PIXELS, {
        EXTREME: "then average over the batch; and for confident logits (±150) your loss returns what "
                 "F.binary_cross_entropy on sigmoid(logits)"}),
    "log_of_probabilities": (
        [(PER_PIXEL, "-(x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(1 - torch.sigmoid(logits)))"),
         TORCH],
        {EXTREME: "is nan for logits of ±150 (and right for moderate logits): does a log meet a probability"}),
    "softplus_by_hand": ([(PER_PIXEL, "torch.log1p(torch.exp(logits)) - x * logits"), TORCH],
                         {VALUES: None, EXTREME: "is inf for logits of ±150 (and right for moderate logits)"}),
    "clamped_logits": ([(PER_PIXEL, 'F.binary_cross_entropy_with_logits(logits.clamp(-50, 50), x, reduction="none")')],
                       {VALUES: None, EXTREME: "right for moderate logits but wrong for confident ones"}),
    "python_float": ([(LOSS, LOSS + ".item()")], {DIFFERENTIABLE: "return a torch tensor"}),
    "item": (load_mistakes("autoencoder")["item"], {DIFFERENTIABLE: "does not require grad"}),
    "fresh_leaf": ([(LOSS, "    return torch.tensor(per_pixel.flatten(1).sum(dim=1).mean().item(), "
                           "requires_grad=True)"), TORCH],
                   {DIFFERENTIABLE: "no gradient reaches the logits"}),
    "float64_result": ([(LOSS, LOSS + ".double()")],
                       {DTYPES: "should return torch.float32; it returns torch.float64"}),
}
ABSENT = {"probabilities": {"bce_on_probabilities", "bce_on_probabilities_mean_over_pixels"}}  # words -> the only
# cases whose feedback may use them


# The same for the VAE's check of bernoulli_log_likelihood at logits of ±150: case -> (edits, words).
VAE_NLL = 'F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (B, ...), stable for any logits'
BERNOULLI_EXTREME = "bernoulli_log_likelihood: stable for logits of ±150"
BERNOULLI_EXTREME_MESSAGES = {
    "bce_on_probabilities": (MUTATIONS["bce_on_probabilities"],
                             "your log-likelihood is minus what F.binary_cross_entropy on sigmoid(logits)"),
    "log_of_probabilities": (
        [(VAE_NLL, "-(x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(1 - torch.sigmoid(logits)))")],
        "NaN or infinite for logits of ±150 (and right for moderate logits): does a log meet a probability"),
    "clamped_logits": ([(VAE_NLL, 'F.binary_cross_entropy_with_logits(logits.clamp(-50, 50), x, reduction="none")')],
                       "right for moderate logits but wrong for confident ones"),
    "offset_everywhere": ([(VAE_NLL, 'F.binary_cross_entropy_with_logits(logits, x, reduction="none") + 0.1')],
                          "the log-likelihood is wrong for moderate logits as well"),
}


@pytest.mark.parametrize("case", sorted(BERNOULLI_EXTREME_MESSAGES))
def test_each_message_of_the_bernoulli_extreme_check_is_given_where_it_is_true(tmp_path, case):
    edits, words = BERNOULLI_EXTREME_MESSAGES[case]
    path = tmp_path / "vae.py"
    path.write_text(mutated("vae", edits), encoding="utf-8")
    verdicts = grading.judge_in_process(ROOT, "vae", "vae", import_file(path, f"vae_extreme_{case}"), skip=("train",))
    verdict = verdicts[BERNOULLI_EXTREME]
    assert verdict.fraction < 1 and words in verdict.feedback, verdict.feedback
    if case != "bce_on_probabilities":
        assert "a loss on probabilities" not in verdict.feedback, verdict.feedback


@pytest.fixture(scope="module")
def autoencoder_verdicts(tmp_path_factory):
    """verdicts(case) -> check name -> Verdict of AUTOENCODER_MESSAGES[case], judged in-process."""
    folder = tmp_path_factory.mktemp("autoencoder_messages")
    path = mistake_files(folder, "autoencoder", {case: edits for case, (edits, _) in AUTOENCODER_MESSAGES.items()})
    return lambda case: grading.judge_in_process(ROOT, "autoencoder", "autoencoder",
                                                 import_file(path(case), f"autoencoder_{case}"))


@pytest.mark.parametrize("case", sorted(AUTOENCODER_MESSAGES))
def test_each_autoencoder_message_is_given_where_it_is_true(autoencoder_verdicts, case):
    """Each message, for a submission that triggers it; a None marks a check that must pass."""
    verdicts = autoencoder_verdicts(case)
    for prefix, words in AUTOENCODER_MESSAGES[case][1].items():
        (verdict,) = [v for name, v in verdicts.items() if name.startswith(prefix)]
        if words is None:
            assert verdict.fraction == 1, verdict.feedback
        else:
            assert verdict.fraction < 1 and words in verdict.feedback, verdict.feedback
    for words, allowed in ABSENT.items():
        if case not in allowed:
            said = [v.feedback for v in verdicts.values() if words in v.feedback]
            assert not said, said
