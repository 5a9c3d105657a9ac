"""X-codec2's encoder inputs computed with torch alone (no torchaudio).

transformers' `Xcodec2FeatureExtractor` needs torchaudio only for Kaldi-style log-mel filter banks, and the
registry's torchaudio does not load beside a CPU torch (ENGINEERING.md), so a core install could not encode a
voice prompt. This module computes the same inputs for one waveform: the padded audio for the acoustic encoder and
80 log-mel bins, two frames stacked (160 values per code), for the semantic encoder. The filter bank follows Kaldi's
definition (povey window, pre-emphasis 0.97, DC removal, 512-point power spectrum, Kaldi mel scale 20-8000 Hz,
log floored at float32 epsilon); tests check it against transformers' extractor where torchaudio loads.

Code count: the official encode pads T samples up to the next multiple of 320 *strictly above* T, so a prompt of
T samples gives floor(T/320) + 1 codes (T = 48000: 151).
"""
from __future__ import annotations

import math

import numpy as np

SAMPLE_RATE = 16000
NUM_MEL_BINS = 80
FRAME_LENGTH = 400   # 25 ms
FRAME_SHIFT = 160    # 10 ms
FFT_SIZE = 512       # frame length rounded up to a power of two, as Kaldi does
STACK = 2            # mel frames per code (20 ms)
PREEMPHASIS = 0.97
LOW_FREQ = 20.0


def num_codes(num_samples: int, hop_length: int = 320) -> int:
    """Codes the official X-codec2 encode returns for `num_samples` samples."""
    return num_samples // hop_length + 1


def _kaldi_mel(freq):
    return 1127.0 * np.log(1.0 + np.asarray(freq, dtype=np.float64) / 700.0)


def mel_filter_bank(num_bins: int = NUM_MEL_BINS, fft_size: int = FFT_SIZE, sample_rate: int = SAMPLE_RATE,
                    low_freq: float = LOW_FREQ, high_freq: float | None = None) -> np.ndarray:
    """(num_bins, fft_size // 2 + 1) triangular weights, equally spaced on Kaldi's mel scale; Nyquist bin unused."""
    high_freq = sample_rate / 2 if high_freq is None else high_freq
    mel_low, mel_high = _kaldi_mel(low_freq), _kaldi_mel(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    mel = _kaldi_mel(np.arange(fft_size // 2) * sample_rate / fft_size)
    weights = np.zeros((num_bins, fft_size // 2 + 1))
    for b in range(num_bins):
        left, centre, right = mel_low + b * delta, mel_low + (b + 1) * delta, mel_low + (b + 2) * delta
        rising = (mel - left) / (centre - left)
        falling = (right - mel) / (right - centre)
        inside = (mel > left) & (mel < right)
        weights[b, : fft_size // 2] = np.where(inside, np.minimum(rising, falling), 0.0)
    return weights


def log_fbank(wav, sample_rate: int = SAMPLE_RATE):
    """Kaldi-style log-mel filter bank of a 1-D float tensor (already scaled to 16-bit range): (frames, 80)."""
    import torch

    frames = wav.unfold(0, FRAME_LENGTH, FRAME_SHIFT)  # snip edges: only whole frames
    frames = frames - frames.mean(dim=1, keepdim=True)
    previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)  # Kaldi: x[0] -= c * x[0]
    frames = frames - PREEMPHASIS * previous
    n = torch.arange(FRAME_LENGTH, dtype=torch.float64)
    povey = (0.5 - 0.5 * torch.cos(2 * math.pi * n / (FRAME_LENGTH - 1))).pow(0.85).to(frames.dtype)
    spectrum = torch.fft.rfft(frames * povey, n=FFT_SIZE).abs().pow(2)
    banks = torch.as_tensor(mel_filter_bank(sample_rate=sample_rate), dtype=spectrum.dtype)
    energies = spectrum @ banks.T
    return energies.clamp_min(torch.finfo(torch.float32).eps).log()


def encoder_inputs(wav: np.ndarray, hop_length: int = 320) -> dict:
    """One 16 kHz mono waveform -> the keyword arguments of `Xcodec2Model.encode` (batch of one, no padding).

    Same values as `Xcodec2FeatureExtractor()(audio=wav, sampling_rate=16000)`: the audio is zero-padded to
    `num_codes(T) * hop_length` samples; the mel features are computed on that audio with half a hop of zeros on
    each side and normalised per bin over the clip.
    """
    import torch

    wav = torch.as_tensor(np.asarray(wav, dtype=np.float32))
    if wav.ndim != 1:
        raise ValueError(f"expected one mono waveform, got shape {tuple(wav.shape)}")
    length = num_codes(wav.shape[0], hop_length) * hop_length
    padded = torch.nn.functional.pad(wav, (0, length - wav.shape[0]))
    framed = torch.nn.functional.pad(padded, (hop_length // 2, hop_length // 2))
    feats = log_fbank(framed * 2 ** 15)
    feats = (feats - feats.mean(0)) / torch.sqrt(feats.var(0, unbiased=True) + 1e-7)
    usable = feats.shape[0] - feats.shape[0] % STACK
    feats = feats[:usable].reshape(1, usable // STACK, NUM_MEL_BINS * STACK)
    return {
        "input_values": padded.view(1, 1, -1),
        "padding_mask": torch.ones(1, length, dtype=torch.long),
        "input_features": feats,
        "input_features_mask": torch.ones(1, feats.shape[1], dtype=torch.long),
    }
