import sys, torch
sys.path.insert(0, '.')
from model import load_trained
from tokenizer import ClipTokenizer
import style, json
ck = torch.load(sys.argv[1] if len(sys.argv) > 1 else 'runs/unet/ckpt.pt', map_location='cpu')
un, te = load_trained(ck)
entries = json.load(open('data/vocabulary.json'))['entries']
tok = ClipTokenizer.from_words(style.caption_vocabulary(entries))
caps = ['a home icon', 'a search icon', 'a heart icon', '']
ids = torch.tensor([tok.encode(c) for c in caps], dtype=torch.int32)
print(ids[:, :8])
with torch.no_grad():
    ctx, _ = te(ids)
    print('ctx std per caption', ctx.std(dim=(1,2)))
    print('ctx diff home-search', (ctx[0]-ctx[1]).abs().mean().item(), 'home-empty', (ctx[0]-ctx[3]).abs().mean().item(), 'ctx mean abs', ctx.abs().mean().item())
    torch.manual_seed(0)
    x = torch.randn(1, ck['unet_config']['in_channels'], 16, 16).repeat(4,1,1,1)
    t = torch.full((4,), 500)
    out = un(x, t, ctx)
    print('unet out diff home-search', (out[0]-out[1]).abs().mean().item(), 'home-empty', (out[0]-out[3]).abs().mean().item(), 'out abs', out.abs().mean().item())
    # cross-attn to_out weights magnitude
    for n, p in un.named_parameters():
        if 'attn2.to_out.0.weight' in n or 'attn2.to_k.weight' in n: print(n, p.abs().mean().item())
