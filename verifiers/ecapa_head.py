"""ECAPA-TDNN head of the UniSpeech / Seed-TTS-eval speaker-verification model (written from its description).

Module and parameter names follow the published checkpoint (layer1..4, conv, pooling, bn, linear;
SE_Res2Block's Conv1dReluBn1 / Res2Conv1dReluBn / Conv1dReluBn2 / SE_Connect / shortcut), so its
state dict loads without renaming. Order inside every conv block is conv -> ReLU -> BatchNorm.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvReluBn(nn.Module):
    def __init__(self, cin, cout, kernel_size=1, padding=0, dilation=1):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel_size, 1, padding, dilation)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))


class Res2ConvReluBn(nn.Module):
    """Res2Net block: channel groups processed in a cascade; the last group passes through unchanged."""

    def __init__(self, channels, kernel_size, padding, dilation, scale):
        super().__init__()
        self.width = channels // scale
        self.nums = scale - 1 if scale > 1 else 1
        self.scale = scale
        self.convs = nn.ModuleList(nn.Conv1d(self.width, self.width, kernel_size, 1, padding, dilation)
                                   for _ in range(self.nums))
        self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(self.nums))

    def forward(self, x):
        parts = torch.split(x, self.width, 1)
        out, sp = [], None
        for i in range(self.nums):
            sp = parts[i] if i == 0 else sp + parts[i]
            sp = self.bns[i](F.relu(self.convs[i](sp)))
            out.append(sp)
        if self.scale != 1:
            out.append(parts[self.nums])
        return torch.cat(out, 1)


class SEConnect(nn.Module):
    def __init__(self, channels, bottleneck):
        super().__init__()
        self.linear1 = nn.Linear(channels, bottleneck)
        self.linear2 = nn.Linear(bottleneck, channels)

    def forward(self, x):
        w = torch.sigmoid(self.linear2(F.relu(self.linear1(x.mean(2)))))
        return x * w.unsqueeze(2)


class SERes2Block(nn.Module):
    def __init__(self, cin, cout, kernel_size, padding, dilation, scale=8, se_bottleneck=128):
        super().__init__()
        self.Conv1dReluBn1 = ConvReluBn(cin, cout)
        self.Res2Conv1dReluBn = Res2ConvReluBn(cout, kernel_size, padding, dilation, scale)
        self.Conv1dReluBn2 = ConvReluBn(cout, cout)
        self.SE_Connect = SEConnect(cout, se_bottleneck)
        self.shortcut = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        res = x if self.shortcut is None else self.shortcut(x)
        return self.SE_Connect(self.Conv1dReluBn2(self.Res2Conv1dReluBn(self.Conv1dReluBn1(x)))) + res


class AttentiveStatsPool(nn.Module):
    def __init__(self, dim, attention_channels=128):
        super().__init__()
        self.linear1 = nn.Conv1d(dim, attention_channels, 1)
        self.linear2 = nn.Conv1d(attention_channels, dim, 1)

    def forward(self, x):
        alpha = torch.softmax(self.linear2(torch.tanh(self.linear1(x))), dim=2)
        mean = (alpha * x).sum(2)
        var = (alpha * x * x).sum(2) - mean * mean
        return torch.cat([mean, var.clamp(min=1e-9).sqrt()], 1)


class EcapaHead(nn.Module):
    """Weighted sum of backbone layers -> instance norm -> ECAPA-TDNN -> embedding (emb_dim)."""

    def __init__(self, feat_dim=1024, n_layers=25, channels=512, emb_dim=256, attention_channels=128,
                 se_bottleneck=128, scale=8, cat_channels=1536):
        super().__init__()
        self.feature_weight = nn.Parameter(torch.zeros(n_layers))
        self.instance_norm = nn.InstanceNorm1d(feat_dim)
        self.layer1 = ConvReluBn(feat_dim, channels, kernel_size=5, padding=2)
        self.layer2 = SERes2Block(channels, channels, 3, 2, 2, scale, se_bottleneck)
        self.layer3 = SERes2Block(channels, channels, 3, 3, 3, scale, se_bottleneck)
        self.layer4 = SERes2Block(channels, channels, 3, 4, 4, scale, se_bottleneck)
        self.conv = nn.Conv1d(channels * 3, cat_channels, 1)
        self.pooling = AttentiveStatsPool(cat_channels, attention_channels)
        self.bn = nn.BatchNorm1d(cat_channels * 2)
        self.linear = nn.Linear(cat_channels * 2, emb_dim)

    def forward(self, layers: torch.Tensor) -> torch.Tensor:
        """layers: (n_layers, B, T, feat_dim) hidden states -> (B, emb_dim)."""
        w = torch.softmax(self.feature_weight, -1).view(-1, 1, 1, 1)
        x = (w * layers).sum(0).transpose(1, 2) + 1e-6
        x = self.instance_norm(x)
        o1 = self.layer1(x)
        o2 = self.layer2(o1)
        o3 = self.layer3(o2)
        o4 = self.layer4(o3)
        x = F.relu(self.conv(torch.cat([o2, o3, o4], 1)))
        return self.linear(self.bn(self.pooling(x)))
