"""The default model's networks, with diffusers / transformers module names.

Attribute names are the contract: the TorchScript ONNX exporter names nodes after the module
path (`/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul`), and the daemon's
shared-attention rewrite finds self-attention layers by those names, exactly as in a real
Stable Diffusion 1.x export.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- text encoder (CLIP-style)


class CLIPAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x, mask):
        b, n, c = x.shape
        d = c // self.heads
        q, k, v = (p(x).reshape(b, n, self.heads, d).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        w = (q @ k.transpose(-1, -2)) * (d**-0.5) + mask
        out = (w.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.out_proj(out)


class CLIPMLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = self.fc1(x)
        return self.fc2(x * torch.sigmoid(1.702 * x))  # quick_gelu, as CLIP


class CLIPEncoderLayer(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.self_attn = CLIPAttention(dim, heads)
        self.layer_norm1 = nn.LayerNorm(dim)
        self.mlp = CLIPMLP(dim, hidden)
        self.layer_norm2 = nn.LayerNorm(dim)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class CLIPEmbeddings(nn.Module):
    def __init__(self, vocab, dim, positions):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Embedding(positions, dim)


class CLIPEncoder(nn.Module):
    def __init__(self, dim, heads, hidden, layers):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(dim, heads, hidden) for _ in range(layers)])


class CLIPTextTransformer(nn.Module):
    def __init__(self, vocab, dim, heads, hidden, layers, positions=77):
        super().__init__()
        self.embeddings = CLIPEmbeddings(vocab, dim, positions)
        self.encoder = CLIPEncoder(dim, heads, hidden, layers)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, input_ids):
        ids = input_ids.long()
        n = ids.shape[1]
        x = self.embeddings.token_embedding(ids) + self.embeddings.position_embedding.weight[:n]
        mask = torch.full((n, n), float("-inf"), device=ids.device).triu(1)
        for layer in self.encoder.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        # CLIP pools at the first EOS, which has the largest id; argmax on float because
        # ONNX Runtime has no int64 ArgMax kernel.
        eos = ids.float().argmax(-1)
        pooled = x[torch.arange(x.shape[0], device=x.device), eos]
        return x, pooled


class CLIPTextModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.text_model = CLIPTextTransformer(
            config["vocab_size"],
            config["hidden_size"],
            config["num_attention_heads"],
            config["intermediate_size"],
            config["num_hidden_layers"],
            config["max_position_embeddings"],
        )

    def forward(self, input_ids):
        return self.text_model(input_ids)


# ------------------------------------------------------------------------------ U-Net


def timestep_embedding(t, dim):
    """diffusers Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, dim, out):
        super().__init__()
        self.linear_1 = nn.Linear(dim, out)
        self.linear_2 = nn.Linear(out, out)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Attention(nn.Module):
    """diffusers Attention with the explicit (pre-SDPA) processor: scores = q k^T * scale."""

    def __init__(self, dim, heads, context_dim=None):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        context_dim = context_dim or dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])
        # Training only (never exported): the batch index of each item's StyleAligned reference,
        # so the model learns to carry appearance through shared self-attention (train.py).
        self.shared_reference = None

    def head_to_batch_dim(self, x):
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, c // self.heads)

    def batch_to_head_dim(self, x):
        bh, n, d = x.shape
        return x.reshape(bh // self.heads, self.heads, n, d).permute(0, 2, 1, 3).reshape(bh // self.heads, n, d * self.heads)

    def forward(self, x, context=None):
        shared = context is None and self.shared_reference is not None
        context = x if context is None else context
        q = self.head_to_batch_dim(self.to_q(x))
        k = self.head_to_batch_dim(self.to_k(context))
        v = self.head_to_batch_dim(self.to_v(context))
        if shared:
            q, k, v = shared_attention_inputs(q, k, v, self.shared_reference, self.heads)
        probs = (torch.bmm(q, k.transpose(-1, -2)) * self.scale).softmax(dim=-1)
        out = self.batch_to_head_dim(torch.bmm(probs, v))
        return self.to_out[1](self.to_out[0](out))


def _adain(x, ref):
    """StyleAligned's AdaIN over the token axis of [B, H, N, d], unbiased variance, eps 1e-5."""
    mean, std = x.mean(dim=2, keepdim=True), (x.var(dim=2, keepdim=True) + 1e-5).sqrt()
    return (x - mean) / std * std[ref] + mean[ref]


def shared_attention_inputs(q, k, v, ref, heads):
    """The daemon's shared attention with its defaults (docs/style-aligned-method.md): queries
    and keys AdaIN-normalised to the reference's, keys and values extended with the reference's.
    A reference (ref[i] == i) attends to its own keys twice, which leaves it unchanged."""
    bh, n, d = q.shape
    q, k, v = (t.reshape(bh // heads, heads, n, d) for t in (q, k, v))
    q, k = _adain(q, ref), _adain(k, ref)
    k = torch.cat([k, k[ref]], dim=2)
    v = torch.cat([v, v[ref]], dim=2)
    return q.reshape(bh, n, d), k.reshape(bh, 2 * n, d), v.reshape(bh, 2 * n, d)


def set_shared_reference(unet, ref):
    """Shares every self-attention layer (the daemon's default level 0) with `ref`, or none."""
    for name, module in unet.named_modules():
        if name.endswith("attn1"):
            module.shared_reference = ref


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    """SD 1.x variant: GroupNorm, 1x1 conv projections (use_linear_projection=False)."""

    def __init__(self, dim, heads, context_dim, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, dim, eps=1e-6)
        self.proj_in = nn.Conv2d(dim, dim, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(dim, heads, context_dim)])
        self.proj_out = nn.Conv2d(dim, dim, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        residual = x
        x = self.proj_in(self.norm(x))
        x = x.permute(0, 2, 3, 1).reshape(b, h * w, c)
        for block in self.transformer_blocks:
            x = block(x, context)
        x = x.reshape(b, h, w, c).permute(0, 3, 1, 2)
        return self.proj_out(x) + residual


class Downsample2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D when `attention`, else DownBlock2D."""

    def __init__(self, cin, cout, temb, layers, attention, heads, context_dim, groups, downsample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, temb, groups) for i in range(layers)])
        if attention:
            self.attentions = nn.ModuleList([Transformer2DModel(cout, heads, context_dim, groups) for _ in range(layers)])
        else:
            self.attentions = None
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if downsample else None

    def forward(self, x, temb, context):
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D when `attention`, else UpBlock2D."""

    def __init__(self, cin, cprev, cout, temb, layers, attention, heads, context_dim, groups, upsample):
        super().__init__()
        resnets = []
        for i in range(layers + 1):
            skip = cin if i == layers else cout
            resnets.append(ResnetBlock2D((cprev if i == 0 else cout) + skip, cout, temb, groups))
        self.resnets = nn.ModuleList(resnets)
        if attention:
            self.attentions = nn.ModuleList([Transformer2DModel(cout, heads, context_dim, groups) for _ in range(layers + 1)])
        else:
            self.attentions = None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if upsample else None

    def forward(self, x, skips, temb, context):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, c, temb, heads, context_dim, groups):
        super().__init__()
        self.attentions = nn.ModuleList([Transformer2DModel(c, heads, context_dim, groups)])
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, temb, groups), ResnetBlock2D(c, c, temb, groups)])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class UNet2DConditionModel(nn.Module):
    """diffusers UNet2DConditionModel, SD 1.x flavour, built from its config.json."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        ch = config["block_out_channels"]
        layers = config["layers_per_block"]
        groups = config["norm_num_groups"]
        ctx = config["cross_attention_dim"]
        # diffusers legacy: `attention_head_dim` holds the number of heads.
        heads = config["attention_head_dim"]
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(config["in_channels"], ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        cout = ch[0]
        for i, kind in enumerate(config["down_block_types"]):
            cin, cout = cout, ch[i]
            last = i == len(ch) - 1
            self.down_blocks.append(
                DownBlock(cin, cout, temb, layers, kind.startswith("CrossAttn"), heads, ctx, groups, not last)
            )
        self.mid_block = UNetMidBlock2DCrossAttn(ch[-1], temb, heads, ctx, groups)
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(ch))
        cout = rev[0]
        for i, kind in enumerate(config["up_block_types"]):
            cprev, cout = cout, rev[i]
            cin = rev[min(i + 1, len(ch) - 1)]
            last = i == len(ch) - 1
            self.up_blocks.append(
                UpBlock(cin, cprev, cout, temb, layers, kind.startswith("CrossAttn"), heads, ctx, groups, not last)
            )
        self.conv_norm_out = nn.GroupNorm(groups, ch[0], eps=1e-5)
        self.conv_out = nn.Conv2d(ch[0], config["out_channels"], 3, padding=1)
        # Experimental (stage 3): the text, pooled over its positions, added to the time embedding,
        # so every ResNet block sees the caption (as SDXL's U-Net does with its pooled text) and
        # not only the cross-attention layers. Inside the graph: the export's inputs stay SD 1.x's.
        # Zero at the start, so a fine-tune begins as the model it starts from.
        if config.get("text_time_embedding"):
            self.text_time = nn.Linear(ctx, temb)
            nn.init.zeros_(self.text_time.weight)
            nn.init.zeros_(self.text_time.bias)

    def forward(self, sample, timestep, encoder_hidden_states):
        temb = self.time_embedding(timestep_embedding(timestep, self.config["block_out_channels"][0]))
        if self.config.get("text_time_embedding"):
            temb = temb + self.text_time(encoder_hidden_states.mean(dim=1))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, s = block(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            n = len(block.resnets)
            x = block(x, skips[-n:], temb, encoder_hidden_states)
            del skips[-n:]
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# ------------------------------------------------------------------------------- VAE
#
# A small convolutional autoencoder, factor 8 (128x128x3 <-> 16x16xC), in the spirit of TAESD:
# plain 3x3 convolutions with SiLU and residual blocks, no normalisation (nothing batch- or
# image-dependent at run time), nearest-neighbour upsampling followed by a convolution (no
# transposed convolutions, whose uneven overlap draws a checkerboard). The encoder predicts a
# diagonal Gaussian (mean, log-variance) and is trained with a small KL term, as SD's VAE; the
# export keeps the mean.


class VaeResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.silu(self.conv1(F.silu(x))))


class VaeEncoder(nn.Module):
    """Light on purpose: it runs once per training latent and per reference image, never per
    generated image. A 2x2 space-to-depth first (lossless), so no convolution runs at 128x128."""

    def __init__(self, channels, latent_channels):
        super().__init__()
        self.conv_in = nn.Conv2d(12, channels[1], 3, padding=1)
        blocks = []
        for i in range(1, len(channels)):
            if i > 1:
                blocks.append(VaeResBlock(channels[i]))
            if i + 1 < len(channels):
                blocks.append(nn.Conv2d(channels[i], channels[i + 1], 3, stride=2, padding=1))
        blocks.append(VaeResBlock(channels[-1]))
        self.blocks = nn.Sequential(*blocks)
        self.conv_out = nn.Conv2d(channels[-1], 2 * latent_channels, 3, padding=1)

    def forward(self, sample):
        """[-1, 1] pixels -> (mean, logvar)."""
        h = self.conv_in(F.pixel_unshuffle(sample, 2))
        h = self.conv_out(F.silu(self.blocks(h)))
        return h.chunk(2, dim=1)


class VaeDecoder(nn.Module):
    def __init__(self, channels, latent_channels):
        super().__init__()
        rev = list(reversed(channels))
        self.conv_in = nn.Conv2d(latent_channels, rev[0], 3, padding=1)
        blocks = [VaeResBlock(rev[0])]
        for i, c in enumerate(rev):
            blocks.append(VaeResBlock(c))
            if i + 1 < len(rev):
                blocks.append(nn.Upsample(scale_factor=2.0, mode="nearest"))
                blocks.append(nn.Conv2d(c, rev[i + 1], 3, padding=1))
        self.blocks = nn.Sequential(*blocks)
        self.conv_out = nn.Conv2d(rev[-1], 3, 3, padding=1)

    def forward(self, latent_sample):
        """Unscaled latents -> [-1, 1] pixels (not clamped; the daemon clamps)."""
        return self.conv_out(F.silu(self.blocks(self.conv_in(latent_sample))))


class VaeMeanEncoder(nn.Module):
    """The export's encoder: the posterior mean, as `latent_sample`."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, sample):
        return self.encoder(sample)[0]


def load_trained(ck, raw=False):
    """The U-Net and text encoder of a loaded train.py checkpoint, in eval mode: its EMA weights
    (what is exported), or with raw, the optimiser's."""
    unet = UNet2DConditionModel(ck["unet_config"]).eval()
    text_encoder = CLIPTextModel(ck["text_config"]).eval()
    unet.load_state_dict(ck["unet"] if raw else ck["ema_unet"])
    text_encoder.load_state_dict(ck["text_encoder"] if raw else ck["ema_text_encoder"])
    return unet, text_encoder


def load_vae(ck):
    """The encoder and decoder of a loaded VAE checkpoint (train_vae.py's, or train_decoder.py's,
    which keeps that layout), in eval mode."""
    encoder = VaeEncoder(ck["channels"], ck["latent_channels"]).eval()
    decoder = VaeDecoder(ck["channels"], ck["latent_channels"]).eval()
    encoder.load_state_dict(ck["encoder"])
    decoder.load_state_dict(ck["decoder"])
    return encoder, decoder


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())
