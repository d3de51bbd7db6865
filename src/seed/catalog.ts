import { randomBytes } from 'node:crypto';
import { faker } from '@faker-js/faker';
import type { Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { Category, Product, ProductVariant, SellerProfile, User, type ProductOption, type VariantOptions } from '../models';
import { addDefaultVariants, refreshProductsFromVariants } from '../modules/catalog';
import { toMinor } from '../platform/utils/money';
import { queryRows } from '../platform/db/query';
import { hashPassword } from '../platform/utils/password';
import { slugify } from '../platform/utils/slug';

/**
 * The demo catalog is the first thing a new user sees, so it reads like a shop: each category
 * holds the kinds of product that belong there, and a product's name, description, price, weight
 * and tags all come from its kind (a "Wireless Mouse" is in Computers and described as a mouse).
 */
export interface ProductKind {
  /** What the product is; every name and description of the kind contains it. Unique in the catalog. */
  noun: string;
  /** Words put before the noun in names ("Over-Ear", "Studio"). */
  variants: string[];
  /** Completes "The <brand> <variant> <noun> …" in the description. */
  pitch: string;
  /** Sentences about the product; a description uses two or three of them. */
  features: string[];
  /** Price range, in cents. */
  price: [number, number];
  /** Shipping weight range, kg. */
  weight: [number, number];
  tags: string[];
  /** Books are named by title ("The Quiet Harbor (Mystery Novel)"), not by brand. */
  titles?: string[];
}

export interface CategorySpec {
  description: string;
  kinds: ProductKind[];
}

export interface TopCategorySpec {
  description: string;
  /** Sub-categories; a top category without any holds products itself. */
  children: Record<string, CategorySpec>;
  kinds?: ProductKind[];
}

const BRANDS = ['Northwind', 'Aurora', 'Kestrel', 'Lumen', 'Harbor', 'Summit', 'Nimbus', 'Ember', 'Cobalt', 'Juniper', 'Alder', 'Meridian'];

const kind = (
  noun: string,
  variants: string[],
  pitch: string,
  features: string[],
  price: [number, number],
  weight: [number, number],
  tags: string[],
  titles?: string[],
): ProductKind => ({ noun, variants, pitch, features, price, weight, tags, titles });


/** The category tree of every generated catalog: top level → sub-categories → kinds of product. */
export const CATALOG: Record<string, TopCategorySpec> = {
  Electronics: {
    description: 'Audio, computers, phones and cameras from independent sellers',
    children: {
      Audio: {
        description: 'Headphones, speakers and turntables',
        kinds: [
          kind('Wireless Headphones', ['Over-Ear', 'On-Ear', 'Studio', 'Travel'], 'gives you clear sound wherever you listen', ['Active noise cancelling shuts out the commute', 'The battery lasts up to 30 hours on one charge', 'The ear cushions are soft memory foam', 'It folds flat into the included case'], [4_900, 34_900], [0.2, 0.4], ['wireless', 'portable']),
          kind('Bluetooth Speaker', ['Compact', 'Waterproof', 'Party', 'Outdoor'], 'fills a room with balanced sound', ['It is rated IPX7 against splashes and rain', 'Two speakers pair for stereo', 'The battery lasts a full day of play', 'A built-in microphone takes calls'], [2_900, 19_900], [0.3, 1.2], ['wireless', 'portable', 'outdoor']),
          kind('Earbuds', ['True Wireless', 'Sport', 'Noise-Cancelling', 'Everyday'], 'sit securely and sound bigger than they look', ['The charging case adds 24 hours of play', 'Three sizes of ear tips are included', 'Touch controls change tracks and volume', 'They resist sweat and rain'], [2_900, 24_900], [0.05, 0.1], ['wireless', 'portable']),
          kind('Turntable', ['Belt-Drive', 'Direct-Drive', 'Retro', 'USB'], 'plays your records with a steady, quiet platter', ['A built-in preamp connects it to any speaker', 'It plays 33 and 45 rpm records', 'A dust cover is included', 'The cartridge is pre-mounted and balanced'], [12_900, 49_900], [4, 8], ['vintage', 'classic']),
        ],
      },
      Computers: {
        description: 'Laptops, monitors, keyboards and mice',
        kinds: [
          kind('Laptop', ['Ultralight 14-inch', 'Workstation 16-inch', 'Student 13-inch', 'Convertible'], 'is built for a full day of work away from a desk', ['It has 16 GB of memory and a 512 GB SSD', 'The battery lasts up to 12 hours', 'The keyboard is backlit', 'Two USB-C ports charge it and drive a display'], [49_900, 249_900], [1.1, 2.4], ['portable', 'premium']),
          kind('Monitor', ['27-inch 4K', '24-inch IPS', 'Curved 34-inch', 'Portable 15-inch'], 'shows sharp, accurate colour for work and play', ['The stand adjusts in height and tilt', 'One USB-C cable carries video and power', 'Flicker-free backlight is easy on the eyes', 'It mounts on a standard VESA arm'], [12_900, 89_900], [3, 9], ['smart']),
          kind('Mechanical Keyboard', ['Tenkeyless', 'Full-Size', 'Compact 75%', 'Low-Profile'], 'types with a crisp, satisfying feel', ['Switches are hot-swappable', 'Keycaps are durable PBT plastic', 'It connects by cable or Bluetooth', 'Per-key backlight is adjustable'], [5_900, 22_900], [0.6, 1.2], ['durable']),
          kind('Wireless Mouse', ['Ergonomic', 'Travel', 'Silent', 'Vertical'], 'fits the hand for long working days', ['It tracks on glass and wood', 'One charge lasts about 70 days', 'Side buttons go back and forward', 'It pairs with three computers'], [1_900, 9_900], [0.08, 0.15], ['wireless', 'portable']),
        ],
      },
      Phones: {
        description: 'Smartphones and what keeps them charged and protected',
        kinds: [
          kind('Smartphone', ['6.1-inch', '6.7-inch Pro', 'Compact', 'Rugged'], 'takes sharp photos and lasts the whole day', ['It comes unlocked for any carrier', 'The OLED screen is bright in sunlight', 'It has 128 GB of storage', 'Face unlock and a fingerprint reader keep it private'], [19_900, 119_900], [0.15, 0.25], ['smart', 'premium']),
          kind('Phone Case', ['Clear', 'Leather', 'Rugged', 'Slim'], 'protects a phone without adding bulk', ['Raised edges guard the screen and camera', 'It works with wireless charging', 'Corners absorb drops of up to two metres', 'The grip is textured against slips'], [990, 4_900], [0.03, 0.08], ['durable']),
          kind('Phone Charger', ['65 W USB-C', 'Wireless', 'Car', 'Travel'], 'charges a phone to half in about half an hour', ['It charges a tablet and a phone at once', 'Foldable prongs travel safely', 'It stays cool under load', 'A braided cable is included'], [1_490, 5_900], [0.08, 0.2], ['portable', 'travel']),
          kind('Screen Protector', ['Tempered Glass', 'Privacy', 'Matte', 'Two-Pack'], 'keeps a phone screen free of scratches', ['An alignment frame makes it easy to apply', 'It is 9H hard and 0.3 mm thin', 'The coating resists fingerprints', 'Touch response stays as sharp as the bare screen'], [790, 2_490], [0.02, 0.05], ['durable']),
        ],
      },
      Cameras: {
        description: 'Cameras, lenses and what holds them steady',
        kinds: [
          kind('Mirrorless Camera', ['Full-Frame', 'APS-C', 'Vlogging', 'Retro'], 'makes detailed photos and 4K video in a small body', ['Eye-tracking autofocus follows people and animals', 'The body is sealed against dust and drizzle', 'In-body stabilisation steadies handheld shots', 'The flip screen helps with selfies and video'], [59_900, 249_900], [0.4, 0.9], ['premium']),
          kind('Action Camera', ['Waterproof', 'Helmet', '360-Degree', 'Mini'], 'records smooth video of whatever you ride or swim', ['It is waterproof to ten metres without a case', 'Stabilisation smooths out bumps', 'It records 4K at 60 frames per second', 'A mount kit is included'], [14_900, 49_900], [0.1, 0.2], ['waterproof', 'outdoor', 'portable']),
          kind('Camera Tripod', ['Travel', 'Carbon', 'Tabletop', 'Video'], 'holds a camera steady for long exposures', ['It folds down to 40 cm', 'The ball head turns smoothly and locks firm', 'Legs set at three angles for uneven ground', 'One leg becomes a monopod'], [2_900, 29_900], [0.5, 2.2], ['travel', 'lightweight']),
          kind('Camera Lens', ['50 mm Prime', '35 mm Prime', '70-200 mm Zoom', 'Macro'], 'draws sharp subjects against soft backgrounds', ['A wide aperture gathers light indoors', 'The focus motor is quiet for video', 'Coatings cut flare and ghosting', 'The mount is weather-sealed'], [19_900, 149_900], [0.2, 1.4], ['premium']),
        ],
      },
    },
  },
  'Home & Kitchen': {
    description: 'Furniture, kitchenware and lighting for every room',
    children: {
      Furniture: {
        description: 'Chairs and tables made to last',
        kinds: [
          kind('Lounge Chair', ['Mid-Century', 'Rattan', 'Velvet', 'Oak'], 'is a deep, comfortable chair for reading', ['The frame is solid hardwood', 'Cushions have removable, washable covers', 'It arrives assembled', 'Felt pads protect the floor'], [14_900, 89_900], [9, 25], ['classic', 'handmade']),
          kind('Office Chair', ['Ergonomic', 'Mesh', 'Task', 'Executive'], 'is a chair that supports you through long working days', ['Lumbar support adjusts to your back', 'Seat height and armrests adjust', 'Breathable mesh keeps you cool', 'Casters roll quietly on any floor'], [9_900, 59_900], [10, 20], ['durable']),
          kind('Dining Chair', ['Bentwood', 'Upholstered', 'Windsor', 'Stackable'], 'is a sturdy chair for everyday meals', ['It comes as a set of two', 'The seat is contoured for comfort', 'Joints are glued and screwed', 'The finish wipes clean'], [7_900, 39_900], [4, 9], ['classic']),
          kind('Coffee Table', ['Walnut', 'Marble-Top', 'Round', 'Nesting'], 'is sized to sit between a sofa and a reading chair', ['A lower shelf holds books and magazines', 'The top is sealed against rings', 'It assembles in ten minutes', 'Edges are rounded for safety'], [12_900, 69_900], [12, 35], ['handmade']),
        ],
      },
      Kitchen: {
        description: 'Knives, cookware and coffee makers',
        kinds: [
          kind("Chef's Knife", ['8-inch', 'Japanese', 'Damascus Steel', 'Santoku-Style'], 'holds a keen edge through daily chopping', ['The blade is high-carbon stainless steel', 'The handle is balanced at the bolster', 'It comes with a blade guard', 'Hand wash keeps the edge longest'], [3_900, 24_900], [0.2, 0.4], ['premium', 'gift']),
          kind('Cast Iron Skillet', ['10-inch', '12-inch', 'Pre-Seasoned', 'Enamelled'], 'sears, bakes and goes from stove to oven', ['It works on induction and open fire', 'Seasoning improves with every use', 'Two pour spouts ease draining', 'It keeps heat for even cooking'], [2_900, 12_900], [2, 4], ['durable', 'classic']),
          kind('Espresso Machine', ['Manual', 'Semi-Automatic', 'Compact', 'Dual-Boiler'], 'pulls rich espresso with a thick crema', ['A steam wand textures milk for lattes', 'It heats up in under a minute', 'The water tank lifts out to fill', 'A pressure gauge shows each shot'], [14_900, 129_900], [4, 14], ['premium']),
          kind('Cutting Board', ['End-Grain', 'Bamboo', 'Walnut', 'Reversible'], 'is kind to knife edges and easy to clean', ['A juice groove catches liquids', 'Rubber feet keep it from sliding', 'It is finished with food-safe oil', 'Handles make it easy to carry'], [1_900, 14_900], [1, 4], ['eco', 'handmade']),
        ],
      },
      Lighting: {
        description: 'Lamps and lights for work and for evenings',
        kinds: [
          kind('Desk Lamp', ['LED', 'Architect', 'Clamp-On', 'Brass'], 'puts light exactly where you work', ['Brightness and colour temperature are adjustable', 'The arm and head swivel freely', 'A USB port charges a phone', 'The bulb is an efficient LED'], [2_900, 14_900], [1, 3], ['smart']),
          kind('Floor Lamp', ['Arc', 'Tripod', 'Torchiere', 'Reading'], 'lights a corner with a warm glow', ['A foot switch turns it on and off', 'The linen shade diffuses the light', 'The weighted base keeps it stable', 'It takes any standard bulb'], [5_900, 29_900], [4, 12], ['classic']),
          kind('Pendant Light', ['Glass', 'Rattan', 'Industrial', 'Globe'], 'hangs over a table or kitchen island', ['The cord length adjusts to the ceiling', 'It is dimmable with a compatible bulb', 'Mounting hardware is included', 'Each shade is finished by hand'], [4_900, 24_900], [1, 4], ['handmade']),
          kind('String Lights', ['LED', 'Solar', 'Festoon', 'Fairy'], 'add a soft glow to a garden or a room', ['They are rated for outdoor use', 'A timer turns them on each evening', 'Bulbs are shatterproof', 'Strands link end to end'], [1_290, 6_900], [0.3, 1.5], ['outdoor', 'gift']),
        ],
      },
    },
  },
  Fashion: {
    description: 'Clothing and shoes for men and women',
    children: {
      Men: {
        description: "Men's shirts, trousers, knitwear and jackets",
        kinds: [
          kind('Oxford Shirt', ['Slim-Fit', 'Classic-Fit', 'Button-Down', 'Organic Cotton'], 'works with a suit or with jeans', ['It is woven from long-staple cotton', 'It comes in sizes S to XXL', 'Machine wash warm', 'The collar keeps its shape'], [2_900, 8_900], [0.2, 0.4], ['classic', 'organic']),
          kind('Chino Trousers', ['Slim', 'Straight', 'Stretch', 'Tapered'], 'are smart enough for the office and easy all weekend', ['Cotton twill has a little stretch', 'They have four pockets', 'Waist sizes run from 28 to 40', 'Garment-dyed for a soft hand'], [3_900, 9_900], [0.4, 0.7], ['classic']),
          kind('Wool Sweater', ['Merino', 'Cable-Knit', 'Crew-Neck', 'Quarter-Zip'], 'is warm without bulk', ['Merino wool regulates temperature', 'It resists odours between washes', 'Ribbed cuffs keep their shape', 'It is knitted in small batches'], [4_900, 16_900], [0.3, 0.7], ['premium']),
          kind('Denim Jacket', ['Classic', 'Sherpa-Lined', 'Washed', 'Raw'], 'gets better with every wear', ['It is made of 13 oz selvedge denim', 'Chest pockets close with buttons', 'The fit leaves room for a sweater', 'Copper rivets reinforce the seams'], [6_900, 18_900], [0.8, 1.3], ['durable', 'classic']),
        ],
      },
      Women: {
        description: "Women's dresses, blouses, knitwear and skirts",
        kinds: [
          kind('Wrap Dress', ['Floral', 'Midi', 'Satin', 'Jersey'], 'flatters and moves easily', ['The tie waist adjusts the fit', 'It is lined to the knee', 'It comes in sizes XS to XL', 'It packs without creasing'], [4_900, 14_900], [0.3, 0.6], ['classic']),
          kind('Linen Blouse', ['Relaxed', 'Cropped', 'Embroidered', 'Sleeveless'], 'stays cool on the warmest days', ['It is woven from European flax', 'Mother-of-pearl buttons', 'Linen softens with every wash', 'The cut is loose and airy'], [3_900, 9_900], [0.2, 0.3], ['eco', 'organic']),
          kind('Cashmere Cardigan', ['Cropped', 'Long-Line', 'V-Neck', 'Oversized'], 'is soft, light and warm', ['Pure Grade-A cashmere', 'Horn buttons', 'Hand wash cold and dry flat', 'It layers under a coat'], [9_900, 29_900], [0.3, 0.5], ['premium', 'gift']),
          kind('Pleated Skirt', ['Midi', 'Mini', 'Maxi', 'Satin'], 'swings as you walk', ['An elastic waist sits comfortably', 'The pleats are permanent', 'It is lined', 'It pairs with knitwear or tees'], [3_900, 11_900], [0.2, 0.4], ['classic']),
        ],
      },
      Shoes: {
        description: 'Running shoes, boots, sneakers and sandals',
        kinds: [
          kind('Running Shoes', ['Road', 'Trail', 'Lightweight', 'Cushioned'], 'make every run feel a little easier', ['The foam midsole returns energy', 'The mesh upper breathes', 'The outsole grips in the wet', 'They come in half sizes'], [7_900, 18_900], [0.5, 0.8], ['lightweight', 'outdoor']),
          kind('Leather Boots', ['Chelsea', 'Lace-Up', 'Hiking', 'Chukka'], 'are made to be resoled for years', ['Full-grain leather upper', 'Goodyear-welted sole', 'Leather lining breathes', 'They soften to your feet'], [12_900, 34_900], [1, 1.8], ['durable', 'handmade']),
          kind('Canvas Sneakers', ['Low-Top', 'High-Top', 'Slip-On', 'Platform'], 'go with everything in your wardrobe', ['Organic cotton canvas upper', 'Vulcanised rubber sole', 'Cushioned insole', 'Machine washable'], [3_900, 8_900], [0.5, 0.9], ['classic', 'eco']),
          kind('Sandals', ['Leather', 'Sport', 'Slide', 'Strappy'], 'keep your feet cool all summer', ['The footbed is contoured', 'Straps adjust at three points', 'The sole grips on wet stone', 'They dry quickly'], [2_900, 9_900], [0.3, 0.6], ['travel', 'lightweight']),
        ],
      },
    },
  },
  'Sports & Outdoors': {
    description: 'Fitness gear and everything for a night outdoors',
    children: {
      Fitness: {
        description: 'Home workout equipment',
        kinds: [
          kind('Yoga Mat', ['Non-Slip', 'Travel', 'Extra-Thick', 'Cork'], 'grips in every pose', ['It is 6 mm thick to cushion the knees', 'It is made without PVC', 'A carry strap is included', 'It wipes clean after class'], [1_900, 8_900], [0.9, 2.5], ['eco', 'lightweight']),
          kind('Dumbbells', ['Adjustable', 'Hex', 'Neoprene', 'Pair of'], 'build strength at home', ['The grip is knurled and secure', 'Weights change in seconds', 'The coating protects floors', 'They store on a compact stand'], [2_900, 34_900], [2, 25], ['durable']),
          kind('Resistance Bands', ['Set of Five', 'Fabric', 'Loop', 'Tube'], 'add resistance to any workout', ['Five levels from light to extra heavy', 'A door anchor is included', 'They pack into a pouch', 'Latex-free fabric will not roll'], [990, 3_900], [0.2, 0.6], ['portable', 'travel']),
          kind('Jump Rope', ['Speed', 'Weighted', 'Beaded', 'Cordless'], 'is the simplest cardio there is', ['Ball bearings spin smoothly', 'The cable length adjusts', 'Handles are foam-padded', 'It fits in a gym bag'], [990, 3_900], [0.1, 0.6], ['portable']),
        ],
      },
      Camping: {
        description: 'Tents, sleeping bags, stoves and camp chairs',
        kinds: [
          kind('Tent', ['Two-Person', 'Four-Person', 'Ultralight', 'Backpacking'], 'pitches in minutes and stays dry in a storm', ['Colour-coded poles make pitching quick', 'Two doors and two porches', 'Seams are taped against rain', 'It packs down small'], [9_900, 49_900], [1.2, 5], ['outdoor', 'waterproof']),
          kind('Sleeping Bag', ['Down', 'Synthetic', 'Three-Season', 'Mummy'], 'keeps you warm on cold nights', ['Comfort-rated to minus five degrees', 'It packs into a compression sack', 'A draft collar keeps in heat', 'Two-way zips vent on warm nights'], [5_900, 34_900], [0.8, 2], ['outdoor', 'lightweight']),
          kind('Camping Stove', ['Compact', 'Two-Burner', 'Wood-Burning', 'Backpacking'], 'boils a litre of water in about four minutes', ['Piezo ignition lights it without matches', 'A windscreen protects the flame', 'It folds into its own pot', 'It runs on standard gas canisters'], [3_900, 14_900], [0.3, 3], ['outdoor', 'portable']),
          kind('Camping Chair', ['Folding', 'Ultralight', 'High-Back', 'Rocking'], 'is a chair to sit around the fire in', ['It sets up in seconds', 'A cup holder sits in the armrest', 'The frame is aluminium', 'It packs into a shoulder bag'], [2_900, 14_900], [1, 4], ['outdoor', 'portable']),
        ],
      },
    },
  },
  Books: {
    description: 'Fiction and non-fiction, new and secondhand',
    children: {
      Fiction: {
        description: 'Novels of every kind',
        kinds: [
          kind('Mystery Novel', ['Hardcover', 'Paperback'], 'is a page-turning mystery set on a windswept coast', ['It was shortlisted for a first-novel prize', 'It is the first book of a series', 'About 380 pages', 'The clues are all on the page'], [990, 2_990], [0.3, 0.7], ['bestseller', 'gift'], ['The Quiet Harbor', 'Salt and Iron', 'The Last Lighthouse', 'North of Midnight']),
          kind('Fantasy Novel', ['Hardcover', 'Paperback'], 'is an epic fantasy of rival kingdoms and old magic', ['It comes with a fold-out map', 'About 520 pages', 'It stands alone, no series needed', 'The cover is foil-stamped'], [990, 3_490], [0.4, 0.9], ['bestseller'], ['The Glass Orchard', 'Paper Kingdoms', 'The Ember Crown', 'Songs of the Deep Wood']),
          kind('Science Fiction Novel', ['Hardcover', 'Paperback'], 'is a science fiction story of the first city on Mars', ['About 430 pages', 'It won a readers\' award', 'The science is carefully researched', 'A sequel is on its way'], [990, 2_990], [0.3, 0.8], ['new'], ['Red Dust Harbour', 'The Long Orbit', 'First Light on Mars', 'Signal from Tycho']),
          kind('Historical Novel', ['Hardcover', 'Paperback'], 'is a historical novel of a family through two wars', ['About 460 pages', 'It includes a family tree', 'Based on letters of the time', 'A book-club guide is at the back'], [990, 2_990], [0.3, 0.8], ['classic'], ['Winter Ledger', 'A Map of Small Hours', "The Weaver's Daughter", 'Letters from Calais']),
        ],
      },
      'Non-fiction': {
        description: 'Cookbooks, travel guides, biographies and popular science',
        kinds: [
          kind('Cookbook', ['Hardcover', 'Paperback'], 'is a cookbook of simple, seasonal recipes', ['Over 100 recipes, each with a photograph', 'Ingredients are easy to find', 'The binding lies flat on the counter', 'Menus for every season'], [1_490, 3_990], [0.6, 1.4], ['gift'], ['Everyday Bread', 'Small Kitchen, Big Flavour', 'The Seasonal Table', 'One Pot, Four Seasons']),
          kind('Travel Guide', ['Pocket', 'Illustrated'], 'is a travel guide to slow journeys by rail and road', ['Fold-out maps for every route', 'Updated for this year', 'Tips from people who live there', 'It fits in a jacket pocket'], [990, 2_490], [0.2, 0.5], ['travel'], ['Slow Roads', 'By Rail Across Europe', 'Hidden Coasts', 'The Long Way Round']),
          kind('Biography', ['Hardcover', 'Paperback'], 'is a biography of an inventor nobody remembers', ['Drawn from unpublished letters', 'About 400 pages with photographs', 'A timeline closes each chapter', 'Notes and index included'], [1_290, 3_490], [0.4, 0.9], ['new'], ['The Forgotten Inventor', 'A Quiet Genius', 'The Lamp Maker', 'Lives in Letters']),
          kind('Popular Science Book', ['Hardcover', 'Paperback'], 'is a popular science book that explains how the body keeps time', ['No background needed', 'Illustrated with clear diagrams', 'About 300 pages', 'Written by a working scientist'], [1_290, 2_990], [0.3, 0.7], ['bestseller'], ['The Thinking Body', 'Clocks Inside Us', 'The Rhythm Within', 'Why We Wake at Dawn']),
        ],
      },
    },
  },
  'Toys & Games': {
    description: 'Board games, puzzles, building sets and plush toys',
    children: {},
    kinds: [
      kind('Board Game', ['Strategy', 'Family', 'Co-operative', 'Party'], 'is a board game for two to six players', ['A game takes about 45 minutes', 'For ages 10 and up', 'Easy to learn in one round', 'Every game plays out differently'], [1_990, 6_990], [0.8, 2], ['kids', 'gift']),
      kind('Jigsaw Puzzle', ['1000-Piece', '500-Piece', 'Panoramic', 'Wooden'], 'is a jigsaw puzzle of a hand-painted landscape', ['Pieces are thick and fit snugly', 'A poster of the picture is included', 'Made from recycled board', 'The finished size is 70 × 50 cm'], [1_290, 3_990], [0.5, 1.2], ['gift', 'eco']),
      kind('Building Blocks Set', ['Starter', 'Castle', 'City', 'Space'], 'is a building blocks set with step-by-step instructions', ['Over 500 pieces', 'Compatible with major brands', 'For ages 6 and up', 'A storage box is included'], [1_990, 9_990], [0.5, 2], ['kids']),
      kind('Plush Toy', ['Bear', 'Fox', 'Whale', 'Owl'], 'is a soft plush toy for cuddles and naps', ['Safety-tested for all ages', 'Machine washable', 'Filled with recycled fibre', 'About 30 cm tall'], [990, 3_490], [0.2, 0.5], ['kids', 'gift']),
    ],
  },
  Beauty: {
    description: 'Skincare and fragrance',
    children: {
      Skincare: {
        description: 'Cleansers, serums, moisturisers and sunscreen',
        kinds: [
          kind('Face Moisturizer', ['Daily', 'Rich', 'Oil-Free', 'Night'], 'hydrates without feeling greasy', ['With hyaluronic acid and ceramides', 'Fragrance-free', 'Suits sensitive skin', '50 ml jar'], [1_490, 5_900], [0.1, 0.2], ['organic']),
          kind('Vitamin C Serum', ['15%', 'Brightening', 'Gentle', 'Overnight'], 'brightens dull skin over a few weeks', ['Stabilised vitamin C with vitamin E', 'In a light-proof dropper bottle', 'Use in the morning under sunscreen', '30 ml'], [1_990, 6_900], [0.05, 0.15], ['premium']),
          kind('Cleanser', ['Gel', 'Cream', 'Foaming', 'Balm'], 'removes make-up and sunscreen without stripping the skin', ['pH-balanced formula', 'Fragrance-free', 'Rinses clean', '150 ml tube'], [990, 3_900], [0.1, 0.25], ['organic', 'eco']),
          kind('Mineral Sunscreen', ['SPF 50', 'SPF 30', 'Tinted SPF 50', 'Sport SPF 50'], 'protects against UVA and UVB with zinc oxide', ['No white cast', 'Water-resistant for 80 minutes', 'Reef-friendly formula', '50 ml'], [1_290, 3_900], [0.08, 0.15], ['outdoor', 'waterproof']),
        ],
      },
      Fragrance: {
        description: 'Perfumes and body mists',
        kinds: [
          kind('Eau de Parfum', ['Amber', 'Citrus', 'Woody', 'Floral'], 'lasts from morning to evening', ['Notes of bergamot, cedar and musk', 'Made in small batches', '50 ml glass bottle', 'Vegan formula'], [4_900, 15_900], [0.2, 0.4], ['premium', 'gift']),
          kind('Eau de Toilette', ['Fresh', 'Aquatic', 'Green', 'Spiced'], 'is a light scent for everyday wear', ['Notes of neroli, vetiver and sea salt', '100 ml spray', 'Unisex', 'Gift-boxed'], [2_900, 8_900], [0.2, 0.5], ['gift']),
          kind('Solid Perfume', ['Jasmine', 'Sandalwood', 'Rose', 'Fig'], 'travels in a pocket without spilling', ['Made with beeswax and jojoba oil', 'In a refillable brass tin', 'Carry-on friendly', 'Apply to pulse points'], [1_490, 3_900], [0.03, 0.08], ['travel', 'handmade']),
          kind('Body Mist', ['Vanilla', 'Cucumber', 'Peony', 'Coconut'], 'is a light, refreshing spritz after a shower', ['Alcohol-free formula', '200 ml spray', 'Layer it with the matching lotion', 'Soft, short-lived scent'], [990, 2_900], [0.2, 0.4], ['new']),
        ],
      },
    },
  },
};

const GENERAL_TAGS = ['new', 'bestseller', 'gift', 'sale', 'limited'];
const STORE_WORDS = ['Store', 'Goods', 'Supply', 'Co.', 'Market'];

export interface CatalogOptions {
  products: number;
  sellers: number;
  /** Password of the generated sellers; they get an unusable random one when omitted. */
  sellerPassword?: string;
  sellerEmailPrefix?: string;
  bcryptRounds?: number;
  seed?: number;
  /**
   * Variants of every product (sizes and colours, 1..12). Default: clothing has 4 to 6 sizes and
   * colours, everything else one default variant.
   */
  variantsPerProduct?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CatalogResult {
  categoryIds: string[];
  sellerIds: string[];
  productCount: number;
}

const BATCH = 1000;

function slugOf(parentName: string, childName?: string): string {
  return childName === undefined ? slugify(parentName) : slugify(`${parentName} ${childName}`);
}

/** The category that holds products of each kind (a sub-category, or a top category without children), by slug. */
function kindsBySlug(): Map<string, ProductKind[]> {
  const bySlug = new Map<string, ProductKind[]>();
  for (const [parentName, parent] of Object.entries(CATALOG)) {
    if (parent.kinds) bySlug.set(slugOf(parentName), parent.kinds);
    for (const [childName, child] of Object.entries(parent.children)) bySlug.set(slugOf(parentName, childName), child.kinds);
  }
  return bySlug;
}

/** Creates the category tree where missing (by slug) and returns the ids of every category in it. */
export async function ensureCategories(transaction?: Transaction): Promise<string[]> {
  const ids: string[] = [];
  let sortOrder = 0;
  for (const [parentName, spec] of Object.entries(CATALOG)) {
    const [parent] = await Category.findOrCreate({
      where: { slug: slugOf(parentName) },
      defaults: { name: parentName, slug: slugOf(parentName), sortOrder: sortOrder++, description: spec.description },
      transaction,
    });
    ids.push(parent.id);
    for (const [childName, child] of Object.entries(spec.children)) {
      const slug = slugOf(parentName, childName);
      const [created] = await Category.findOrCreate({
        where: { slug },
        defaults: { name: childName, slug, parentId: parent.id, sortOrder: sortOrder++, description: child.description },
        transaction,
      });
      ids.push(created.id);
    }
  }
  return ids;
}

function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** Prices that look like shop prices: 12.90, 49.00, 129.99 rather than 127.43. */
function shopPrice([min, max]: [number, number]): number {
  const raw = faker.number.int({ min, max });
  const step = raw < 5_000 ? 100 : 1_000;
  return Math.max(min, Math.round(raw / step) * step - faker.helpers.arrayElement([10, 1, 100]));
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Name, short description and description of one product of a kind. */
export function describeProduct(kind: ProductKind): { name: string; shortDescription: string; description: string } {
  const variant = faker.helpers.arrayElement(kind.variants);
  const features = faker.helpers.arrayElements(kind.features, { min: 2, max: 3 });
  if (kind.titles) {
    const title = faker.helpers.arrayElement(kind.titles);
    const name = `${title} (${variant} ${kind.noun})`;
    const shortDescription = sentence(`${title} ${kind.pitch}`);
    const description = [shortDescription, `A ${variant.toLowerCase()} ${kind.noun.toLowerCase()}.`, ...features.map(sentence)].join(' ');
    return { name, shortDescription, description };
  }
  const brand = faker.helpers.arrayElement(BRANDS);
  const name = `${brand} ${variant} ${kind.noun}`;
  const shortDescription = sentence(`The ${name} ${kind.pitch}`);
  const description = [shortDescription, ...features.map(sentence), 'Ships within two working days of your order.'].join(' ');
  return { name, shortDescription, description };
}

const SIZES = ['S', 'M', 'L', 'XL'];
const COLOURS = ['Black', 'White', 'Navy', 'Olive', 'Burgundy', 'Grey'];
/** Leaf categories whose products come in sizes and colours by default. */
const APPAREL_SLUGS = new Set(['fashion-men', 'fashion-women']);

/**
 * `count` size-and-colour variants of a product row (sizes cost a little more as they grow), and
 * the options they use.
 */
function apparelVariants(row: Record<string, unknown>, count: number): { options: ProductOption[]; variants: Array<Record<string, unknown>> } {
  const colours = faker.helpers.arrayElements(COLOURS, Math.ceil(count / SIZES.length));
  const combinations = SIZES.flatMap((size, sizeIndex) => colours.map((colour) => ({ size, sizeIndex, colour }))).slice(0, count);
  const base = toMinor(row.price as string);
  const compare = row.comparePrice ? toMinor(row.comparePrice as string) : null;
  const variants = combinations.map(({ size, sizeIndex, colour }, position) => {
    const options: VariantOptions = { Size: size, Color: colour };
    return {
      id: faker.string.uuid(),
      productId: row.id,
      sellerId: row.sellerId,
      sku: `${row.sku as string}-${size}-${colour.slice(0, 3).toUpperCase()}`,
      title: `${size} / ${colour}`,
      options,
      price: money(base + sizeIndex * 100),
      comparePrice: compare === null ? null : money(compare + sizeIndex * 100),
      costPrice: money(Math.floor(base * 0.6)),
      stockQuantity: faker.number.int({ min: 0, max: 7 }) === 0 ? 0 : faker.number.int({ min: 1, max: 80 }),
      lowStockThreshold: 5,
      images: [],
      status: 'active',
      position,
      createdAt: row.createdAt,
      updatedAt: row.createdAt,
    };
  });
  const used = (name: 'Size' | 'Color', order: string[]) => order.filter((value) => combinations.some((c) => (name === 'Size' ? c.size : c.colour) === value));
  return { options: [{ name: 'Size', values: used('Size', SIZES) }, { name: 'Color', values: used('Color', colours) }], variants };
}

function productRow(index: number, runId: string, sellerIds: string[], leaf: { id: string; kinds: ProductKind[] }): Record<string, unknown> {
  const kind = faker.helpers.arrayElement(leaf.kinds);
  const { name, shortDescription, description } = describeProduct(kind);
  const price = shopPrice(kind.price);
  const hasDiscount = faker.number.int({ min: 0, max: 3 }) === 0;
  const stock = faker.number.int({ min: 0, max: 10 }) === 0 ? 0 : faker.number.int({ min: 1, max: 500 });
  const roll = faker.number.int({ min: 0, max: 19 });
  const status = roll === 0 ? 'draft' : roll === 1 ? 'inactive' : stock === 0 ? 'out_of_stock' : 'active';
  const slug = `${slugify(name, 80)}-${runId}${index.toString(36)}`;
  const tags = [...new Set([...faker.helpers.arrayElements(kind.tags, { min: 1, max: kind.tags.length }), ...faker.helpers.arrayElements(GENERAL_TAGS, { min: 0, max: 2 })])];
  return {
    id: faker.string.uuid(),
    sellerId: sellerIds[index % sellerIds.length],
    categoryId: leaf.id,
    name,
    slug,
    shortDescription,
    description,
    price: money(price),
    priceMax: money(price),
    comparePrice: hasDiscount ? money(price + Math.max(100, Math.round((price * faker.number.int({ min: 10, max: 40 })) / 100 / 100) * 100)) : null,
    costPrice: money(Math.floor(price * 0.6)),
    sku: `SKU-${runId}-${index.toString().padStart(6, '0')}`.toUpperCase(),
    stockQuantity: stock,
    lowStockThreshold: 10,
    weight: faker.number.float({ min: kind.weight[0], max: kind.weight[1], fractionDigits: 2 }).toFixed(2),
    dimensions: { length: faker.number.int({ min: 5, max: 100 }), width: faker.number.int({ min: 5, max: 100 }), height: faker.number.int({ min: 1, max: 60 }), unit: 'cm' },
    // A placeholder that names what the product is, rather than an unrelated stock photo.
    images: [`https://placehold.co/800x800/png?text=${encodeURIComponent(kind.noun)}`],
    status,
    tags,
    viewCount: faker.number.int({ min: 0, max: 5000 }),
    createdAt: faker.date.recent({ days: 365 }),
    updatedAt: new Date(),
  };
}

/**
 * Generates a catalog that reads like a shop (the category tree, approved sellers with store
 * profiles, products whose names, descriptions, prices and tags fit their category) with
 * multi-row inserts of 1,000 rows.
 */
export async function generateCatalog(sequelize: Sequelize, options: CatalogOptions): Promise<CatalogResult> {
  faker.seed(options.seed ?? Date.now());
  const runId = randomBytes(3).toString('hex');
  const categoryIds = await ensureCategories();

  const password = await hashPassword(options.sellerPassword ?? randomBytes(24).toString('base64url'), options.bcryptRounds ?? 10);
  const prefix = options.sellerEmailPrefix ?? `seller-${runId}`;
  const sellerIds: string[] = [];
  await sequelize.transaction(async (transaction) => {
    for (let i = 1; i <= options.sellers; i += 1) {
      const storeName = `${faker.company.name()} ${faker.helpers.arrayElement(STORE_WORDS)}`.slice(0, 100);
      const user = await User.create(
        { email: `${prefix}-${i}@example.com`, password, name: faker.person.fullName().slice(0, 100), role: 'seller', status: 'approved', emailVerified: true },
        { transaction },
      );
      await SellerProfile.create(
        {
          userId: user.id,
          storeName,
          storeSlug: `${slugify(storeName, 100)}-${runId}${i}`,
          storeDescription: `${storeName} is an independent shop on the marketplace: careful packing, quick dispatch and friendly returns.`,
          approvedAt: new Date(),
        },
        { transaction },
      );
      sellerIds.push(user.id);
    }
  });

  // Products go to the categories of the tree that hold kinds (leaves), matched by slug.
  const bySlug = kindsBySlug();
  const rows = await queryRows<{ id: string; slug: string }>('SELECT id, slug FROM categories WHERE slug = ANY($slugs::text[])', {
    slugs: [...bySlug.keys()],
  });
  // In slug order, so that one seed makes the same catalog in any database.
  const leaves = rows.sort((a, b) => (a.slug < b.slug ? -1 : 1)).map((row) => ({ id: row.id, slug: row.slug, kinds: bySlug.get(row.slug)! }));
  for (let done = 0; done < options.products; done += BATCH) {
    const size = Math.min(BATCH, options.products - done);
    const batch: Array<Record<string, unknown>> = [];
    const variants: Array<Record<string, unknown>> = [];
    for (let i = 0; i < size; i += 1) {
      const leaf = faker.helpers.arrayElement(leaves);
      const row = productRow(done + i, runId, sellerIds, leaf);
      const count = options.variantsPerProduct ?? (APPAREL_SLUGS.has(leaf.slug) ? faker.number.int({ min: 4, max: 6 }) : 1);
      if (count > 1) {
        const made = apparelVariants(row, Math.min(count, SIZES.length * COLOURS.length));
        row.options = made.options;
        variants.push(...made.variants);
      }
      batch.push(row);
    }
    await sequelize.transaction(async (transaction) => {
      await Product.bulkCreate(batch as never[], { validate: false, hooks: false, transaction });
      if (variants.length > 0) await ProductVariant.bulkCreate(variants as never[], { validate: false, hooks: false, transaction });
      const ids = batch.map((row) => row.id as string);
      await addDefaultVariants(ids, transaction);
      await refreshProductsFromVariants(ids, transaction);
    });
    options.onProgress?.(done + size, options.products);
  }
  return { categoryIds, sellerIds, productCount: options.products };
}
